// PLACEHOLDER: replaced by the issue that builds `sigops validate`.
import type { Command } from 'commander';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops validate: not built yet\n');
      process.exitCode = 1;
    });
}
