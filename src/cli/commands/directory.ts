// PLACEHOLDER: replaced by the issue that builds `sigops directory`.
import type { Command } from 'commander';

export function registerDirectory(program: Command): void {
  program
    .command('directory')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops directory: not built yet\n');
      process.exitCode = 1;
    });
}
