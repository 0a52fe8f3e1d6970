// PLACEHOLDER: replaced by the issue that builds `sigops sign`.
import type { Command } from 'commander';

export function registerSign(program: Command): void {
  program
    .command('sign')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops sign: not built yet\n');
      process.exitCode = 1;
    });
}
