// The relay's logger: the project's pino setup, but writing asynchronously. A synchronous write
// to a full stderr pipe makes pino sleep 100 ms in the event loop (sonic-boom's EAGAIN retry),
// which would stall every SMTP session; mail must never wait for logs. If the consumer falls
// more than 8 MB behind, log lines are dropped instead.
//
// The one line per message (TRAFFIC_LINES) is written in batches of about 8 KB, and at least
// once a second: a write per message was a measurable share of the relay's CPU (a system call
// through the thread pool each). Every other line (start, reloads, warnings) goes out at once.
import { pino, type Logger } from 'pino';

/** Messages of the per-message log lines, which may wait up to a second in the batch. */
export const TRAFFIC_LINES: ReadonlySet<string> = new Set(['relayed', 'refused']);

/** How long the last flush at exit may take before the process ends without it. */
const EXIT_FLUSH_MS = 2000;

export function createRelayLogger(options: { level?: string; name?: string } = {}): { log: Logger; flush(): Promise<void> } {
  const dest = pino.destination({ dest: 2, sync: false, maxLength: 8 * 1024 * 1024, minLength: 8 * 1024, periodicFlush: 1000 });
  const log = pino(
    {
      name: options.name ?? 'sigops-relay',
      level: options.level ?? process.env.SIGOPS_LOG_LEVEL ?? 'info',
      base: undefined,
      hooks: {
        logMethod(args, method, level) {
          method.apply(this, args);
          const msg = typeof args[0] === 'string' ? args[0] : args[1];
          if (level >= 40 || typeof msg !== 'string' || !TRAFFIC_LINES.has(msg)) dest.flush();
        },
      },
    },
    dest,
  );
  return {
    log,
    // Asynchronous and bounded, not flushSync: when stderr became a broken pipe while the relay
    // was idle, sonic-boom's flushSync retries the failing EPIPE write forever and the process
    // never exits after its drain.
    flush: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, EXIT_FLUSH_MS);
        try {
          dest.flush(() => {
            clearTimeout(timer);
            resolve();
          });
        } catch {
          // destroyed already: nothing more can be done for logs at exit
          clearTimeout(timer);
          resolve();
        }
      }),
  };
}
