// `sigops plan`: diff of the desired Exchange Online objects vs the live ones, per tenant.
import { Option, type Command } from 'commander';
import { loadConfigOrReport } from '../config.ts';
import { formatErrorSummary } from '../../errors/index.ts';
import { exchangeOptionsFromEnv, hasChanges, hasErrors, planTenants, renderPlan, type PlanFormat } from '../../plan/index.ts';
import { reportError } from '../report.ts';
import { cliLogger } from '../logger.ts';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('show what `apply` would change in Exchange Online (connectors and transport rule) per tenant')
    .option('-c, --config <dir>', 'path of the config repository', '.')
    .option('-t, --tenant <slug>', 'only this tenant')
    .option('--prune', 'also plan the offboarding of tenants whose file was deleted from the repo')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--detailed-exitcode', 'exit 2 when changes are pending (drift detection)')
    .addHelpText(
      'after',
      `
Credentials come from the environment: SIGOPS_CLIENT_ID with SIGOPS_CLIENT_SECRET,
SIGOPS_CLIENT_CERTIFICATE (PEM with key and certificate), or the GitHub Actions OIDC token.
SIGOPS_EXCHANGE_URL and SIGOPS_LOGIN_URL override the Microsoft endpoints.

Exit status: 0 planned (also with changes, unless --detailed-exitcode), 2 changes pending
with --detailed-exitcode, 1 error (invalid config, credentials, a tenant that could not be read,
an object of ours blocked by a lookalike).

Examples:
  $ sigops plan --config example-config
  $ sigops plan --config . --format markdown > plan.md
  $ sigops plan --config . --detailed-exitcode || echo "drift or error: $?"
`,
    )
    .action(async (opts: { config: string; tenant?: string; prune?: boolean; format: PlanFormat; detailedExitcode?: boolean }) => {
      const config = await loadConfigOrReport(opts.config);
      if (!config) {
        process.exitCode = 1;
        return;
      }
      try {
        const plan = await planTenants({
          config,
          prune: opts.prune ?? false,
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          // Failed requests (with their client-request-id) and Exchange's warnings go to stderr.
          exchange: { ...exchangeOptionsFromEnv(), logger: cliLogger() },
        });
        process.stdout.write(renderPlan(plan, opts.format));
        if (hasErrors(plan)) {
          for (const t of plan.tenants) {
            if (t.error) process.stderr.write(`sigops plan (tenant ${t.slug}): ${formatErrorSummary(t.error)}\n`);
            for (const c of t.conflicts) process.stderr.write(`sigops plan (tenant ${t.slug}): conflict: ${c.message}\n`);
          }
          process.exitCode = 1;
        } else {
          process.exitCode = opts.detailedExitcode && hasChanges(plan) ? 2 : 0;
        }
      } catch (err) {
        reportError('plan', err);
        process.exitCode = 1;
      }
    });
}
