// PLACEHOLDER: replaced by the issue that builds `sigops relay`.
import type { Command } from 'commander';

export function registerRelay(program: Command): void {
  program
    .command('relay')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops relay: not built yet\n');
      process.exitCode = 1;
    });
}
