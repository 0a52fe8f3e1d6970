// `sigops login`: first interactive set-up. An Exchange administrator signs in with the device
// code flow; sigops checks that Exchange Online answers and shows what it would manage.
import type { Command } from 'commander';
import { CLOUD_NAMES, CredentialsError, cloudEndpoints, loginWithDeviceCode, type CloudName } from '../../entra/index.ts';
import { ExchangeClient, OBJECT_NAMES, CREATE_ORDER, isManagedBySigops, listObjects } from '../../exchange/index.ts';
import { loadConfigOrReport } from '../config.ts';
import { reportError } from '../report.ts';

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('sign in interactively (device code) and check access to a tenant\'s Exchange Online')
    .option('--tenant-id <id>', 'Entra tenant id (or use --config and --tenant)')
    .option('-c, --config <dir>', 'path of the config repository (to look up --tenant)')
    .option('-t, --tenant <slug>', 'tenant slug in the config repository')
    .option('--cloud <name>', `the tenant's Microsoft cloud with --tenant-id: ${CLOUD_NAMES.join(', ')} (with --tenant: its \`cloud:\`)`)
    .addHelpText(
      'after',
      `
Needs SIGOPS_CLIENT_ID: an app registration with "Allow public client flows" enabled and the
delegated Exchange.Manage permission of Office 365 Exchange Online (see docs/exchange.md).
The sign-in is only checked and not stored: plan/apply use app-only credentials.

Examples:
  $ SIGOPS_CLIENT_ID=… sigops login --tenant-id 7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10
  $ SIGOPS_CLIENT_ID=… sigops login --config example-config --tenant contoso
`,
    )
    .action(async (opts: { tenantId?: string; config?: string; tenant?: string; cloud?: string }) => {
      try {
        let tenantId = opts.tenantId?.toLowerCase();
        if (opts.cloud !== undefined && !CLOUD_NAMES.includes(opts.cloud as CloudName)) {
          throw new Error(`--cloud must be one of ${CLOUD_NAMES.join(', ')}`);
        }
        let cloudName = opts.cloud as CloudName | undefined;
        if (!tenantId && opts.tenant) {
          const config = await loadConfigOrReport(opts.config ?? '.');
          if (!config) {
            process.exitCode = 1;
            return;
          }
          const tenant = config.tenants.find((t) => t.slug === opts.tenant);
          tenantId = tenant?.id;
          if (!tenantId) throw new Error(`no tenant "${opts.tenant}" in the config repo`);
          cloudName ??= tenant?.cloud;
        }
        const cloud = cloudEndpoints(cloudName);
        if (!tenantId) throw new Error('give --tenant-id ID, or --config DIR --tenant SLUG');
        const clientId = process.env.SIGOPS_CLIENT_ID?.trim();
        if (!clientId) throw new CredentialsError('SIGOPS_CLIENT_ID is not set (the application id of the Entra app registration)');
        const { accessToken, account } = await loginWithDeviceCode({
          clientId,
          tenantId,
          loginUrl: process.env.SIGOPS_LOGIN_URL || cloud.loginUrl,
          scope: cloud.exchangeScope,
          onCode: (message) => process.stderr.write(`${message}\n`),
        });
        process.stdout.write(`Signed in as ${account} (tenant ${tenantId}).\n`);
        const client = new ExchangeClient({
          tenantId,
          tokens: { getToken: () => Promise.resolve(accessToken) },
          anchorMailbox: `UPN:${account}`,
          exchangeUrl: process.env.SIGOPS_EXCHANGE_URL || cloud.exchangeUrl,
        });
        for (const kind of CREATE_ORDER) {
          const records = await listObjects(client, kind);
          const name = OBJECT_NAMES[kind];
          const match = records.find((r) => String(r.Name ?? '').toLowerCase() === name);
          const state = !match ? 'absent (apply creates it)' : isManagedBySigops(match, kind) ? 'present, managed by sigops' : 'present but NOT managed by sigops (conflict)';
          process.stdout.write(`  ${kind.padEnd(17)} ${records.length} in the tenant; "${name}": ${state}\n`);
        }
        process.stdout.write('Exchange Online answers. Next: set up app-only credentials for plan/apply (docs/exchange.md).\n');
        process.exitCode = 0;
      } catch (err) {
        reportError('login', err);
        process.exitCode = 1;
      }
    });
}
