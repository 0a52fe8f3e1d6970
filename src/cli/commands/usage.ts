// PLACEHOLDER: replaced by the issue that builds `sigops usage`.
import type { Command } from 'commander';

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops usage: not built yet\n');
      process.exitCode = 1;
    });
}
