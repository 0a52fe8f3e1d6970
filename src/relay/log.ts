// The relay's logger: the project's pino setup, but writing asynchronously. A synchronous write
// to a full stderr pipe makes pino sleep 100 ms in the event loop (sonic-boom's EAGAIN retry),
// which would stall every SMTP session; mail must never wait for logs. If the consumer falls
// more than 8 MB behind, log lines are dropped instead.
import { pino, type Logger } from 'pino';

export function createRelayLogger(options: { level?: string; name?: string } = {}): { log: Logger; flush(): void } {
  const dest = pino.destination({ dest: 2, sync: false, maxLength: 8 * 1024 * 1024 });
  const log = pino(
    {
      name: options.name ?? 'sigops-relay',
      level: options.level ?? process.env.SIGOPS_LOG_LEVEL ?? 'info',
      base: undefined,
    },
    dest,
  );
  return {
    log,
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // nothing more can be done for logs at exit
      }
    },
  };
}
