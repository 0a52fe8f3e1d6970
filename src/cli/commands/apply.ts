// `sigops apply`: makes Exchange Online match the config, then plans again and expects nothing left.
import { Option, type Command } from 'commander';
import { exchangeOptionsFromEnv, ExchangeConnector, applyPlan, planTenants, renderApplyReport, renderPlan, type PlanFormat } from '../../plan/index.ts';
import { formatErrorSummary } from '../../errors/index.ts';
import { loadConfigOrReport } from '../config.ts';
import { reportError } from '../report.ts';
import { cliLogger } from '../logger.ts';

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('make Exchange Online match the config (connectors, transport rule), then verify nothing is left')
    .option('-c, --config <dir>', 'path of the config repository', '.')
    .option('-t, --tenant <slug>', 'only this tenant')
    .option('--prune', 'offboard tenants whose file was deleted from the repo (removes their sigops objects)')
    .option('--force', 'apply even when existing objects change in more tenants than the safety limit')
    .option('--checksum <sha>', 'refuse unless the plan still has this checksum (as reviewed in the PR)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Order: connectors are created before the rule (it routes to the outbound connector); when
offboarding, the rule is removed before the connectors. Objects without the sigops marker are
never touched. A failure in one tenant does not stop the others; every outcome is reported.

Exit status: 0 converged (a fresh plan is empty), 1 anything else (stale checksum, safety
limit without --force, a tenant that failed or did not converge).

Examples:
  $ sigops apply --config example-config
  $ sigops apply --config . --checksum 3f2a…    # the checksum shown by the reviewed plan
  $ sigops apply --config . --prune --tenant oldco
`,
    )
    .action(
      async (opts: { config: string; tenant?: string; prune?: boolean; force?: boolean; checksum?: string; format: PlanFormat }) => {
        const config = await loadConfigOrReport(opts.config);
        if (!config) {
          process.exitCode = 1;
          return;
        }
        try {
          // Failed requests (with their client-request-id) and Exchange's warnings go to stderr.
          const exchange = new ExchangeConnector({ ...exchangeOptionsFromEnv(), logger: cliLogger() });
          const plan = await planTenants({
            config,
            exchange,
            prune: opts.prune ?? false,
            ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          });
          if (opts.format !== 'json') process.stdout.write(renderPlan(plan, opts.format));
          // Just planned: the checksum given is compared with this plan, no second plan needed.
          const report = await applyPlan(plan, {
            config,
            exchange,
            force: opts.force ?? false,
            verify: false,
            ...(opts.checksum !== undefined ? { expectedChecksum: opts.checksum } : {}),
          });
          process.stdout.write(opts.format === 'json' ? `${JSON.stringify({ plan, report }, null, 2)}\n` : `\n${renderApplyReport(report, opts.format)}`);
          for (const t of report.tenants) {
            if (t.outcome === 'failed') {
              const why = t.error ?? t.steps.find((s) => s.error)?.error;
              process.stderr.write(`sigops apply (tenant ${t.slug}): failed${why ? `: ${formatErrorSummary(why)}` : ''}\n`);
            }
          }
          process.exitCode = report.converged ? 0 : 1;
        } catch (err) {
          reportError('apply', err);
          process.exitCode = 1;
        }
      },
    );
}
