// `sigops preview`: shows what a sender's mail would get, through the same policy the relay uses.
import type { Command } from 'commander';
import { Option } from 'commander';
import { loadConfigOrReport } from '../config.ts';
import { compilePolicy } from '../../policy/index.ts';

interface PreviewOptions {
  config: string;
  from: string;
  to: string[];
  format: 'html' | 'text';
  name?: string;
  date?: string;
}

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description("render the signature, banner and disclaimer a sender's mail would get")
    .requiredOption('-c, --config <dir>', 'path of the config repository')
    .requiredOption('--from <address>', 'sender address (its domain selects the tenant)')
    .option('--to <address...>', 'recipient address(es); default: one outside recipient (someone@example.com)')
    .addOption(new Option('-f, --format <format>', 'what to print').choices(['html', 'text']).default('html'))
    .option('--name <display name>', 'display name from the From header, used when the sender is not in the directory')
    .option('--date <YYYY-MM-DD>', 'pretend it is this day (UTC), to preview dated campaigns')
    .addHelpText('after', `
The chosen rule and its placement go to stderr; the rendered block goes to stdout.

Examples:
  $ sigops preview --config example-config --from alice@contoso.com
  $ sigops preview --config example-config --from alice@contoso.com --to bob@contoso.com --format text
  $ sigops preview --config example-config --from alice@contoso.com --date 2026-12-10 > preview.html
`)
    .action(async (opts: PreviewOptions) => {
      const config = await loadConfigOrReport(opts.config);
      if (!config) {
        process.exitCode = 1;
        return;
      }
      const from = opts.from.trim().toLowerCase();
      const at = from.lastIndexOf('@');
      if (at < 1 || at === from.length - 1) {
        process.stderr.write(`sigops preview: --from ${opts.from} is not an e-mail address\n`);
        process.exitCode = 1;
        return;
      }
      let now = new Date();
      if (opts.date !== undefined) {
        now = new Date(`${opts.date}T12:00:00Z`);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.date) || Number.isNaN(now.getTime())) {
          process.stderr.write(`sigops preview: --date ${opts.date} is not a date (YYYY-MM-DD)\n`);
          process.exitCode = 1;
          return;
        }
      }
      const policy = compilePolicy(config);
      const tenant = policy.tenantForSender(from);
      if (!tenant) {
        process.stderr.write(`sigops preview: no tenant owns the domain ${from.slice(at + 1)}; known domains: ${policy.tenants.flatMap((t) => t.tenant.domains).join(', ')}\n`);
        process.exitCode = 1;
        return;
      }
      const recipients = (opts.to ?? ['someone@example.com']).map((r) => r.trim().toLowerCase());
      const decision = tenant.decide({
        sender: from,
        from: { address: from, ...(opts.name !== undefined ? { name: opts.name } : {}) },
        recipients,
        now,
      });
      if (decision.kind === 'skip') {
        process.stderr.write(`tenant ${tenant.tenant.slug}: nothing added (${decision.reason}${decision.detail ? `: ${decision.detail}` : ''})\n`);
        return;
      }
      process.stderr.write(`tenant ${tenant.tenant.slug}, rule '${decision.rule}', placement ${decision.placement}\n`);
      const images = decision.blocks.images ?? [];
      if (images.length > 0) process.stderr.write(`embedded images: ${images.map((i) => i.name).join(', ')} (shown here as data: URLs; in mail as cid: parts)\n`);
      // cid: means nothing to a browser: the preview carries the images themselves
      let html = decision.blocks.html;
      for (const i of images) html = html.split(`cid:${i.contentId}`).join(`data:${i.mime};base64,${Buffer.from(i.data).toString('base64')}`);
      const body = opts.format === 'html' ? html : decision.blocks.text;
      process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
    });
}
