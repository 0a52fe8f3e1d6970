// `sigops sign`: signs one message offline through the very code the relay runs (signMessage).
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { loadConfigOrReport } from '../config.ts';
import { reportError } from '../report.ts';
import { compilePolicy } from '../../policy/index.ts';
import { offlineChooser, signMessage, type ChooserState } from '../../mime/index.ts';

interface SignCliOptions {
  config: string;
  in?: string;
  from?: string;
  to?: string[];
}

export function registerSign(program: Command): void {
  program
    .command('sign')
    .description('sign one message offline (stdin to stdout by default) through the code the relay runs')
    .requiredOption('-c, --config <dir>', 'path of the config repository')
    .option('-i, --in <file.eml>', 'read the message from this file instead of stdin')
    .option('--from <address>', 'envelope sender; default: the From header')
    .option('--to <address...>', 'envelope recipients; default: To, Cc and Bcc headers')
    .addHelpText('after', `
The signed (or passed-through) message goes to stdout; what happened goes to stderr.
The tenant is the one owning the sender's domain.

Exit status: 0 when the message was signed or passed through unchanged, 1 for usage or
config errors (invalid config, unreadable input, no tenant for the sender).

Examples:
  $ sigops sign --config example-config --in reply.eml > signed.eml
  $ sigops sign --config example-config --from alice@contoso.com --to bob@fabrikam.com < draft.eml
`)
    .action(async (opts: SignCliOptions) => {
      const config = await loadConfigOrReport(opts.config);
      if (!config) {
        process.exitCode = 1;
        return;
      }
      let input: Readable = process.stdin;
      if (opts.in !== undefined) {
        try {
          await access(opts.in);
        } catch {
          process.stderr.write(`sigops sign: cannot read ${opts.in}\n`);
          process.exitCode = 1;
          return;
        }
        input = createReadStream(opts.in);
      }
      const state: ChooserState = { recipients: [] };
      const choose = offlineChooser(compilePolicy(config), { ...(opts.from ? { sender: opts.from } : {}), ...(opts.to ? { recipients: opts.to } : {}) }, state);
      // stdout is not ended by us: a PassThrough carries the message to it
      const out = new PassThrough();
      out.pipe(process.stdout, { end: false });
      // a reader that goes away (`| head`) must not crash the command: stop writing, keep draining
      process.stdout.once('error', () => {
        out.unpipe(process.stdout);
        out.resume();
      });
      try {
        const outcome = await signMessage(input, out, choose);
        await new Promise<void>((done) => (out.readableEnded ? done() : out.once('end', done)));
        const who = `tenant ${state.tenant?.tenant.slug ?? '?'}, sender ${state.sender ?? '?'}`;
        if (outcome.signed) {
          process.stderr.write(`signed: ${who}, rule '${outcome.rule ?? '?'}'${outcome.detail ? ` (${outcome.detail})` : ''}\n`);
        } else {
          const why = outcome.reason === 'policy' ? `policy: ${outcome.detail ?? ''}` : `${outcome.reason ?? '?'}${outcome.detail ? `: ${outcome.detail}` : ''}`;
          process.stderr.write(`passed through unchanged: ${who}, reason ${why}\n`);
        }
      } catch (err) {
        // a NoTenantError (or any SigopsError) comes with its advice on the next line
        reportError('sign', err);
        process.exitCode = 1;
      }
    });
}
