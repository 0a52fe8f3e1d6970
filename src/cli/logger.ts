// The logger of the sigops commands that call Microsoft's services: JSON lines on stderr,
// warnings and up unless SIGOPS_LOG_LEVEL says otherwise (stdout stays the command's output).
import { createLogger, type Logger } from '../log/index.ts';

export function cliLogger(): Logger {
  return createLogger({ level: process.env.SIGOPS_LOG_LEVEL ?? 'warn' });
}
