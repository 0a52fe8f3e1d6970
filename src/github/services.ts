// The real sigops modules behind the action's SigopsServices port: config loading, the compiled
// policy (for previews), and the Exchange plan/apply with URLs and credentials from the
// environment (SIGOPS_EXCHANGE_URL, SIGOPS_LOGIN_URL, SIGOPS_CLIENT_*, ACTIONS_ID_TOKEN_REQUEST_*).
import { formatDiagnostics, loadConfigRepo } from '../config/index.ts';
import { describeError } from '../errors/index.ts';
import {
  ExchangeConnector,
  applyPlan,
  exchangeOptionsFromEnv,
  planTenants,
  renderApplyReport,
  renderPlan,
} from '../plan/index.ts';
import { compilePolicy } from '../policy/index.ts';
import type { SigopsServices } from './port.ts';

export function sigopsServices(env: NodeJS.ProcessEnv = process.env): SigopsServices {
  // One connector per run: one token per tenant, reused by plan and apply. Created lazily, after
  // the action has mapped its inputs into the environment.
  let connector: ExchangeConnector | undefined;
  const exchange = (): ExchangeConnector => (connector ??= new ExchangeConnector(exchangeOptionsFromEnv(env)));
  return {
    loadConfig: (root) => loadConfigRepo(root),
    compilePolicy,
    plan: (config, { prune }) => planTenants({ config, prune, exchange: exchange() }),
    renderPlan: (plan, format) => renderPlan(plan, format),
    renderApplyReport: (report, format) => renderApplyReport(report, format),
    async apply(config, { prune, force, checksum }) {
      const plan = await planTenants({ config, prune, exchange: exchange() });
      // Just planned in this process: no second plan before applying.
      const report = await applyPlan(plan, {
        config,
        exchange: exchange(),
        force,
        verify: false,
        ...(checksum !== undefined ? { expectedChecksum: checksum } : {}),
      });
      return { plan, report };
    },
    annotateDiagnostics: (errors, warnings, paths) => formatDiagnostics(errors, warnings, 'github', paths),
    describeError,
  };
}
