// `sigops failover`: when the relay fleet's /healthz fails for long enough, disable each tenant's
// routing rule so mail flows unsigned instead of queueing in Exchange; re-enable it once the
// fleet is healthy again. Runs outside the fleet: one check per run (a CronJob or a scheduled
// workflow), or a loop with --watch. docs/failover.md.
import { Option, type Command } from 'commander';
import {
  DEFAULT_AFTER_MINUTES,
  DEFAULT_RECOVER_AFTER_MINUTES,
  FailoverSettingsError,
  applyFailover,
  failoverFailed,
  planFailover,
  probeFleet,
  renderFailoverPlan,
  renderFailoverReport,
  type FailoverSettings,
} from '../../failover/index.ts';
import type { Logger } from '../../log/index.ts';
import { ExchangeConnector, exchangeOptionsFromEnv } from '../../exchange/index.ts';
import { loadConfigOrReport } from '../config.ts';
import { reportError } from '../report.ts';
import { cliLogger } from '../logger.ts';

interface FailoverOptions {
  config: string;
  tenant?: string;
  health: string[];
  after: string;
  recoverAfter: string;
  planOnly?: boolean;
  watch?: string;
  probeTimeout: string;
  format: 'text' | 'json';
}

function minutes(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new FailoverSettingsError(`${option} ${value}: not a number of minutes`, `Give ${option} as minutes, e.g. ${option} 10 (decimals allowed, 0 switches at once).`);
  return n * 60_000;
}

/** One round: read the config (a tenant paused meanwhile is left alone), probe, decide, write. */
async function checkOnce(opts: FailoverOptions, settings: FailoverSettings, timeoutMs: number, exchange: ExchangeConnector, logger: Logger): Promise<void> {
  const config = await loadConfigOrReport(opts.config);
  if (!config) {
    process.exitCode = 1;
    return;
  }
  const fleet = await probeFleet(opts.health, { timeoutMs });
  const plan = await planFailover({ config, fleet, settings, exchange, ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}) });
  if (opts.planOnly) {
    process.stdout.write(opts.format === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : renderFailoverPlan(plan));
    process.exitCode = plan.tenants.some((t) => t.error) ? 1 : 0;
    return;
  }
  const report = await applyFailover(plan, { exchange, logger });
  process.stdout.write(opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderFailoverReport(report));
  process.exitCode = failoverFailed(report) ? 1 : 0;
}

export function registerFailover(program: Command): void {
  program
    .command('failover')
    .description('disable the routing rule while the relay fleet is down (mail flows unsigned), re-enable it once healthy')
    .option('-c, --config <dir>', 'path of the config repository', '.')
    .option('-t, --tenant <slug>', 'only this tenant')
    .option('--health <url...>', "the fleet's /healthz URLs (repeat, or comma-separated); healthy when any answers", (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)])
    .option('--after <minutes>', 'disable the rule once the fleet has been unhealthy this long', String(DEFAULT_AFTER_MINUTES))
    .option('--recover-after <minutes>', 're-enable it once the fleet has been healthy again this long', String(DEFAULT_RECOVER_AFTER_MINUTES))
    .option('--probe-timeout <seconds>', 'a health URL that does not answer in time counts as down', '5')
    .option('--plan-only', 'show what failover would write, write nothing')
    .option('--watch <seconds>', 'keep running: check every <seconds> until SIGTERM')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
State lives in the transport rule's Comments (a "failover: …" note after the sigops marker),
so any runner reaches the same decision; nothing is kept locally. Every switch is logged
(JSON on stderr) and shown by \`sigops plan\` and the drift report, and \`apply\` keeps a rule
that failover disabled disabled. A paused tenant (enabled: false) is never touched.

Exit status: 0 checked (switched or not), 1 a tenant could not be read or switched, or bad options.

Examples:
  $ sigops failover --config . --health https://relay1.example.net:9025/healthz,https://relay2.example.net:9025/healthz
  $ sigops failover --config . --health https://relay.example.net/healthz --after 15 --plan-only
  $ sigops failover --config . --health https://relay.example.net/healthz --watch 60
`,
    )
    .action(async (opts: FailoverOptions) => {
      let stop = false;
      const onSignal = (): void => {
        stop = true;
      };
      try {
        if (!opts.health || opts.health.length === 0) {
          throw new FailoverSettingsError('no --health URL given', "Give the relay fleet's /healthz URLs: --health https://relay1.example.net:9025/healthz,…");
        }
        const settings = { afterMs: minutes(opts.after, '--after'), recoverAfterMs: minutes(opts.recoverAfter, '--recover-after') };
        const timeoutMs = Number(opts.probeTimeout) * 1000;
        const interval = opts.watch !== undefined ? Number(opts.watch) * 1000 : undefined;
        if (interval !== undefined && !(interval > 0)) throw new FailoverSettingsError(`--watch ${opts.watch}: not a number of seconds`, 'Give --watch as seconds between checks, e.g. --watch 60.');
        const logger = cliLogger();
        const exchange = new ExchangeConnector({ ...exchangeOptionsFromEnv(), logger });
        // --watch ends between rounds on SIGTERM/SIGINT (a round in progress finishes its writes).
        if (interval !== undefined) process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
        for (;;) {
          try {
            await checkOnce(opts, settings, timeoutMs, exchange, logger);
          } catch (err) {
            // In --watch a failed round (Exchange unreachable, a token refused) is reported and retried next round.
            reportError('failover', err);
            process.exitCode = 1;
          }
          if (interval === undefined || stop) break;
          const until = Date.now() + interval;
          while (!stop && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
          if (stop) break;
        }
      } catch (err) {
        reportError('failover', err);
        process.exitCode = 1;
      } finally {
        process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      }
    });
}
