// `sigops failover` as data, like plan/apply: check the fleet once, read each tenant's rule,
// decide (decide.ts) → a failover plan; render it; apply its steps. Applying is separate, so
// `--plan-only` shows the same plan without writing anything.
import type { ConfigRepo, Tenant, TenantCloud } from '../model/index.ts';
import {
  ExchangeConnector,
  TRANSPORT_RULE_NAME,
  describeFailoverNote,
  isManagedBySigops,
  listObjects,
  parseFailoverNote,
  setRuleEnabled,
  updateObject,
  type ExchangeClient,
  type ExchangeOptions,
  type FailoverNote,
} from '../exchange/index.ts';
import { describeError, formatErrorSummary, type ErrorSummary } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { decideFailover, type FailoverDecision, type FailoverOutcome, type FailoverSettings, type RuleState } from './decide.ts';
import { FailoverSettingsError, RuleNotManagedError } from './errors.ts';
import type { FleetHealth } from './health.ts';

export interface TenantFailover {
  readonly slug: string;
  readonly tenantId: string;
  readonly cloud?: TenantCloud;
  readonly decision: FailoverDecision;
  /** The rule could not be read, or is not ours. */
  readonly error?: ErrorSummary;
}

export interface FailoverPlan {
  readonly fleet: FleetHealth;
  readonly settings: FailoverSettings;
  readonly tenants: readonly TenantFailover[];
}

export interface FailoverPlanOptions {
  readonly config: ConfigRepo;
  readonly tenant?: string;
  readonly fleet: FleetHealth;
  readonly settings: FailoverSettings;
  readonly exchange?: ExchangeOptions | ExchangeConnector;
  /** Decision time (default: when the fleet was probed). */
  readonly now?: Date;
}

function connectorOf(exchange: FailoverPlanOptions['exchange']): ExchangeConnector {
  return exchange instanceof ExchangeConnector ? exchange : new ExchangeConnector(exchange ?? {});
}

/** Reads each tenant's rule and decides; nothing is written. */
export async function planFailover(options: FailoverPlanOptions): Promise<FailoverPlan> {
  const connector = connectorOf(options.exchange);
  let tenants: readonly Tenant[] = options.config.tenants;
  if (options.tenant !== undefined) {
    tenants = tenants.filter((t) => t.slug === options.tenant);
    if (tenants.length === 0) {
      throw new FailoverSettingsError(`no tenant "${options.tenant}" in the config`, 'Give the slug of a file under tenants/ (without .yaml).');
    }
  }
  const now = options.now ?? new Date(options.fleet.checkedAt);
  const out: TenantFailover[] = [];
  for (const tenant of [...tenants].sort((a, b) => (a.slug < b.slug ? -1 : 1))) {
    const base = { slug: tenant.slug, tenantId: tenant.id, ...(tenant.cloud && tenant.cloud !== 'global' ? { cloud: tenant.cloud } : {}) };
    let rule: RuleState | undefined;
    try {
      rule = await readRule(connector.client(tenant.id, tenant.cloud));
    } catch (err) {
      const error = describeError(err);
      out.push({ ...base, decision: { outcome: 'refused', message: `the rule could not be read: ${error.message}`, steps: [] }, error });
      continue;
    }
    const decision = decideFailover({
      now,
      healthy: options.fleet.healthy,
      reason: options.fleet.reason,
      tenantEnabled: tenant.enabled,
      rule,
      settings: options.settings,
    });
    const error = decision.outcome === 'refused' ? describeError(new RuleNotManagedError(TRANSPORT_RULE_NAME)) : undefined;
    out.push({ ...base, decision, ...(error ? { error } : {}) });
  }
  return { fleet: options.fleet, settings: options.settings, tenants: out };
}

/** The rule named like ours (Get-TransportRule, read as `sigops plan` reads it). */
async function readRule(client: ExchangeClient): Promise<RuleState | undefined> {
  const records = await listObjects(client, 'TransportRule');
  const r = records.find((x) => String(x.Name ?? x.Identity ?? '').toLowerCase() === TRANSPORT_RULE_NAME.toLowerCase());
  if (!r) return undefined;
  const comments = typeof r.Comments === 'string' ? r.Comments : '';
  return {
    managed: isManagedBySigops(r, 'TransportRule'),
    enabled: String(r.State ?? 'Enabled').toLowerCase() !== 'disabled',
    comments,
    note: parseFailoverNote(comments),
  };
}

export interface TenantFailoverResult {
  readonly slug: string;
  readonly outcome: FailoverOutcome;
  readonly message: string;
  /** Every step written (false when one failed; the next run decides again from what is live). */
  readonly done: boolean;
  readonly error?: ErrorSummary;
  readonly note?: FailoverNote;
}

export interface FailoverReport {
  readonly fleet: FleetHealth;
  readonly tenants: readonly TenantFailoverResult[];
}

export interface ApplyFailoverOptions {
  readonly exchange?: ExchangeOptions | ExchangeConnector;
  /** Every switch and every failure is logged here (one structured line each). */
  readonly logger?: Logger;
}

/** Writes each tenant's steps in order; a failed step stops that tenant (its error is reported). */
export async function applyFailover(plan: FailoverPlan, options: ApplyFailoverOptions = {}): Promise<FailoverReport> {
  const connector = connectorOf(options.exchange);
  const log = options.logger;
  const results: TenantFailoverResult[] = [];
  for (const t of plan.tenants) {
    const d = t.decision;
    const base = { slug: t.slug, outcome: d.outcome, message: d.message, ...(d.note ? { note: d.note } : {}) };
    if (t.error) {
      log?.error({ tenant: t.slug, tenantId: t.tenantId, code: t.error.code, err: t.error.message }, 'failover: tenant not checked');
      results.push({ ...base, done: false, error: t.error });
      continue;
    }
    const client = connector.client(t.tenantId, t.cloud);
    try {
      for (const step of d.steps) {
        if (step.action === 'note') await updateObject(client, 'TransportRule', TRANSPORT_RULE_NAME, { Comments: step.comments });
        else await setRuleEnabled(client, TRANSPORT_RULE_NAME, step.action === 'enable');
      }
    } catch (err) {
      const error = describeError(err);
      log?.error({ tenant: t.slug, tenantId: t.tenantId, outcome: d.outcome, code: error.code, err: error.message }, 'failover: switch failed');
      results.push({ ...base, done: false, error });
      continue;
    }
    const fields = { tenant: t.slug, tenantId: t.tenantId, outcome: d.outcome, fleetHealthy: plan.fleet.healthy, reason: plan.fleet.reason || undefined };
    if (d.outcome === 'disabled') log?.warn(fields, `failover: rule disabled (${d.message})`);
    else if (d.outcome === 'enabled') log?.warn(fields, `failover: rule re-enabled (${d.message})`);
    else if (d.outcome === 'noted') log?.info(fields, `failover: ${d.message}`);
    results.push({ ...base, done: true });
  }
  return { fleet: plan.fleet, tenants: results };
}

const SWITCHES: ReadonlySet<FailoverOutcome> = new Set(['disabled', 'enabled']);

function fleetLines(fleet: FleetHealth): string[] {
  return [
    `relay fleet ${fleet.healthy ? 'healthy' : 'UNHEALTHY'} at ${fleet.checkedAt}`,
    ...fleet.samples.map((s) => `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.url}: ${s.detail}`),
  ];
}

function stepText(t: TenantFailover): string {
  return t.decision.steps.map((s) => (s.action === 'note' ? 'write the failover note (Set-TransportRule -Comments)' : `${s.action} the rule (${s.action === 'enable' ? 'Enable' : 'Disable'}-TransportRule)`)).join(', then ');
}

/** The plan as text: the fleet, then per tenant the decision and the writes it needs. */
export function renderFailoverPlan(plan: FailoverPlan): string {
  const out = ['sigops failover', '', ...fleetLines(plan.fleet), ''];
  for (const t of plan.tenants) {
    out.push(`${t.slug} (${t.tenantId}): ${t.decision.outcome}: ${t.decision.message}`);
    if (t.error) out.push(`  ${formatErrorSummary(t.error).replaceAll('\n', '\n  ')}`);
    if (t.decision.steps.length > 0) out.push(`  would ${stepText(t)}`);
  }
  if (plan.tenants.length === 0) out.push('no tenants in scope');
  return `${out.join('\n')}\n`;
}

/** The report as text: what was written, what failed. */
export function renderFailoverReport(report: FailoverReport): string {
  const out = ['sigops failover', '', ...fleetLines(report.fleet), ''];
  for (const t of report.tenants) {
    const mark = t.error ? 'FAILED' : SWITCHES.has(t.outcome) ? 'SWITCHED' : t.outcome;
    out.push(`${t.slug}: ${mark}: ${t.message}`);
    if (t.error) out.push(`  ${formatErrorSummary(t.error).replaceAll('\n', '\n  ')}`);
    if (t.note && !t.error) out.push(`  now: ${describeFailoverNote(t.note)}`);
  }
  if (report.tenants.length === 0) out.push('no tenants in scope');
  return `${out.join('\n')}\n`;
}

/** Whether any tenant could not be checked or switched (exit 1). */
export function failoverFailed(report: FailoverReport): boolean {
  return report.tenants.some((t) => t.error !== undefined);
}
