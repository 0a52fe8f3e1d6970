// PLACEHOLDER: replaced by the issue that builds `sigops apply`.
import type { Command } from 'commander';

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops apply: not built yet\n');
      process.exitCode = 1;
    });
}
