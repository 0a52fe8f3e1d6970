// PLACEHOLDER: replaced by the issue that builds `sigops login`.
import type { Command } from 'commander';

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops login: not built yet\n');
      process.exitCode = 1;
    });
}
