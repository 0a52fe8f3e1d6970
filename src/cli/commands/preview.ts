// PLACEHOLDER: replaced by the issue that builds `sigops preview`.
import type { Command } from 'commander';

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('sigops preview: not built yet\n');
      process.exitCode = 1;
    });
}
