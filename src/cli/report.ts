// How every command prints an error it stops on: `sigops <command>: Name [code]: message`, and
// the advice on the next line. One path for every SigopsError, whatever concept raised it.
import { formatError } from '../errors/index.ts';

/** Writes the error to stderr; `command` is omitted for errors that escape every command. */
export function reportError(command: string | undefined, err: unknown): void {
  process.stderr.write(`sigops${command ? ` ${command}` : ''}: ${formatError(err)}\n`);
}
