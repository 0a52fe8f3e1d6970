// One structured logger for the whole service. Never log message content or headers:
// addresses, ids, codes and reasons only.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'sigops',
      level: options.level ?? process.env.SIGOPS_LOG_LEVEL ?? 'info',
      base: undefined,
    },
    pino.destination(2),
  );
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
