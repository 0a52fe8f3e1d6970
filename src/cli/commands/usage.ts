// `sigops usage`: distinct senders signed per tenant in a month, from the relay's state dir.
import type { Command } from 'commander';
import { readUsage, renderUsage } from '../../relay/index.ts';

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('distinct senders signed per tenant in a month (licensing), from the relay state directory')
    .requiredOption('--month <YYYY-MM>', 'month (UTC)')
    .option('--format <format>', 'text | csv | json', 'text')
    .option('--state <dir>', "the relay's state directory", '.sigops-state')
    .action(async (opts: { month: string; format: string; state: string }) => {
      if (!['text', 'csv', 'json'].includes(opts.format)) throw new Error('--format must be text, csv or json');
      const report = await readUsage(opts.state, opts.month);
      process.stdout.write(renderUsage(report, opts.format as 'text' | 'csv' | 'json'));
    });
}
