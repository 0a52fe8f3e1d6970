// The real sigops modules behind the action's SigopsServices port: config loading, the compiled
// policy (for previews), the Exchange plan/apply and the Graph directory sync, with URLs and
// credentials from the environment (SIGOPS_EXCHANGE_URL, SIGOPS_GRAPH_URL, SIGOPS_LOGIN_URL,
// SIGOPS_CLIENT_*, ACTIONS_ID_TOKEN_REQUEST_*).
import { formatDiagnostics, loadConfigRepo } from '../config/index.ts';
import { directoryUse, graphTokenProvider, syncGraphSnapshot } from '../directory/index.ts';
import { credentialsFromEnv } from '../entra/index.ts';
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

export interface ServiceOptions {
  /** PEM of a CA to trust for the Entra login (tests against a loopback login; production trusts the system's, or NODE_EXTRA_CA_CERTS). */
  readonly loginCa?: string;
}

export function sigopsServices(env: NodeJS.ProcessEnv = process.env, options: ServiceOptions = {}): SigopsServices {
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
    syncDirectory(config, tenant) {
      // As `sigops directory sync`: the tenant's cloud picks the login host, Graph and the scope.
      const tokens = graphTokenProvider({
        credentials: credentialsFromEnv(env),
        ...(tenant.cloud ? { cloud: tenant.cloud } : {}),
        ...(env.SIGOPS_LOGIN_URL ? { loginUrl: env.SIGOPS_LOGIN_URL } : {}),
        ...(options.loginCa ? { ca: options.loginCa } : {}),
      });
      return syncGraphSnapshot({
        root: config.root,
        tenant,
        previous: config.directories.get(tenant.slug),
        // as the CLI: only the Graph properties the tenant's templates and rules use are read
        use: directoryUse(tenant, config.templates),
        tokens,
        ...(env.SIGOPS_GRAPH_URL ? { graphUrl: env.SIGOPS_GRAPH_URL } : {}),
        validate: async (root) => {
          const check = await loadConfigRepo(root);
          return check.ok ? { ok: true } : { ok: false, errors: check.errors };
        },
      });
    },
    annotateDiagnostics: (errors, warnings, paths) => formatDiagnostics(errors, warnings, 'github', paths),
    describeError,
  };
}
