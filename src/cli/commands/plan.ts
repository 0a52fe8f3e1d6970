// PLACEHOLDER: replaced by the issue that builds `sigops plan`.
import type { Command } from 'commander';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops plan: not built yet\n');
      process.exitCode = 1;
    });
}
