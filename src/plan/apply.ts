// Applying a plan: refuse it when stale or unsafe, run its changes tenant by tenant in
// dependency order, then plan again (tolerating replication lag) and expect nothing left.
import {
  ConnectorInUseError,
  ObjectNotFoundError,
  createObject,
  removeObject,
  setRuleEnabled,
  updateObject,
  type DesiredObject,
  type ExchangeClient,
  type ExchangeValue,
  type Warnings,
} from '../exchange/index.ts';
import { describeError } from '../errors/index.ts';
import type { Sleep } from '../entra/index.ts';
import { SafetyLimitError, StalePlanError } from './errors.ts';
import { blockingFindings } from './findings.ts';
import { DEFAULT_CONCURRENCY, connectorOf, planTenants, type PlanOptions } from './plan.ts';
import { mapLimit } from './pool.ts';
import type { AppliedStep, ApplyReport, Change, Plan, TenantApplyReport, TenantPlan } from './types.ts';

export interface SettleOptions {
  /** Re-plans after applying before giving up on lagging reads (default 8). */
  readonly attempts: number;
  /** First wait between re-plans, doubled each time (default 2 s). */
  readonly delayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_SETTLE: SettleOptions = { attempts: 8, delayMs: 2000, maxDelayMs: 30_000 };

export interface ApplyOptions extends Omit<PlanOptions, 'tenant' | 'prune'> {
  /** Apply even when the plan changes existing objects in more tenants than the safety limit. */
  readonly force?: boolean;
  /** The checksum the reviewer approved (e.g. from the PR comment); the plan must match it. */
  readonly expectedChecksum?: string;
  /**
   * Re-plan before applying and refuse when the checksum moved (default true). Callers that
   * planned a moment ago in the same process may pass false.
   */
  readonly verify?: boolean;
  readonly settle?: SettleOptions;
  /** Waits between lag retries; defaults to the exchange options' sleep, else real time. */
  readonly sleep?: Sleep;
}

/** Runs the plan. Throws StalePlanError / SafetyLimitError before touching anything; tenant failures are reported. */
export async function applyPlan(plan: Plan, options: ApplyOptions): Promise<ApplyReport> {
  if (options.expectedChecksum !== undefined && options.expectedChecksum.toLowerCase() !== plan.checksum) {
    throw new StalePlanError(options.expectedChecksum, plan.checksum);
  }
  if (plan.safety.needsForce && !options.force) throw new SafetyLimitError(plan.safety.tenantsChangingExisting, plan.safety.limit);

  const connector = connectorOf(options.exchange);
  const scope: PlanOptions = {
    ...options,
    exchange: connector,
    prune: plan.prune,
    ...(plan.tenantFilter !== undefined ? { tenant: plan.tenantFilter } : {}),
  };
  if (options.verify ?? true) {
    const fresh = await planTenants(scope);
    if (fresh.checksum !== plan.checksum) throw new StalePlanError(plan.checksum, fresh.checksum);
  }
  const sleep = options.sleep ?? connector.sleep;
  const settle = options.settle ?? DEFAULT_SETTLE;

  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const steps = new Map<string, AppliedStep[]>();
  const runnable = plan.tenants.filter((t) => !t.error && t.conflicts.length === 0 && blockingFindings(t).length === 0 && t.changes.length > 0);
  const results = await mapLimit(runnable, concurrency, (tenant) =>
    applyTenant(connector.client(tenant.tenantId, tenant.cloud), tenant, sleep, settle),
  );
  runnable.forEach((t, i) => steps.set(t.slug, results[i]!));

  // Converged means a fresh plan shows nothing left; reads may lag behind the writes just made.
  const attempted = plan.tenants.filter((t) => steps.has(t.slug) && steps.get(t.slug)!.every((s) => s.outcome === 'done'));
  let remaining = new Map<string, TenantPlan>();
  let pending = attempted.map((t) => t.slug);
  let delay = settle.delayMs;
  for (let attempt = 1; pending.length > 0; attempt++) {
    remaining = new Map();
    const replans = await mapLimit(pending, concurrency, async (slug) => {
      const again = await planTenants({ ...scope, tenant: slug });
      return again.tenants.find((x) => x.slug === slug);
    });
    for (const t of replans) {
      if (t && (t.changes.length > 0 || t.error || t.conflicts.length > 0)) remaining.set(t.slug, t);
    }
    pending = [...remaining.keys()];
    if (pending.length === 0 || attempt >= settle.attempts) break;
    await sleep(delay);
    delay = Math.min(settle.maxDelayMs, delay * 2);
  }

  const tenants: TenantApplyReport[] = plan.tenants.map((t) => {
    const base = { slug: t.slug, tenantId: t.tenantId };
    if (t.error) return { ...base, outcome: 'failed', steps: [], error: t.error, remaining: t.changes };
    if (t.conflicts.length > 0) {
      const message = t.conflicts.map((c) => c.message).join(' ');
      return { ...base, outcome: 'failed', steps: [], error: { name: 'ConflictError', message }, remaining: t.changes };
    }
    const blocking = blockingFindings(t);
    if (blocking.length > 0) {
      const error = { name: 'DomainFindingError', code: blocking[0]!.code, message: blocking.map((f) => f.message).join(' '), advice: blocking.map((f) => f.advice).join(' ') };
      return { ...base, outcome: 'failed', steps: [], error, remaining: t.changes };
    }
    if (t.changes.length === 0) return { ...base, outcome: 'unchanged', steps: [], remaining: [] };
    const done = steps.get(t.slug) ?? [];
    const failedStep = done.find((s) => s.outcome === 'failed');
    if (failedStep) return { ...base, outcome: 'failed', steps: done, remaining: [] };
    const left = remaining.get(t.slug);
    if (left) {
      return {
        ...base,
        outcome: 'failed',
        steps: done,
        remaining: left.changes,
        error: left.error ?? {
          name: 'NotConvergedError',
          message: `changes still pending after ${settle.attempts} re-plans: Exchange may still be replicating, run plan again later`,
        },
      };
    }
    return { ...base, outcome: 'converged', steps: done, remaining: [] };
  });
  return { checksum: plan.checksum, converged: tenants.every((t) => t.outcome !== 'failed'), tenants };
}

/** One tenant's changes in plan order; the first failure skips the rest (they depend on it). */
async function applyTenant(client: ExchangeClient, tenant: TenantPlan, sleep: Sleep, settle: SettleOptions): Promise<AppliedStep[]> {
  const out: AppliedStep[] = [];
  let failed = false;
  for (const change of tenant.changes) {
    if (failed) {
      out.push({ change, outcome: 'skipped' });
      continue;
    }
    try {
      const warnings = await runChange(client, change, sleep, settle);
      out.push({ change, outcome: 'done', ...(warnings.length > 0 ? { warnings: [...warnings] } : {}) });
    } catch (err) {
      failed = true;
      out.push({ change, outcome: 'failed', error: describeError(err) });
    }
  }
  return out;
}

/**
 * Runs `write` again, with back-off, while it fails with an error that only means "Exchange has
 * not replicated the previous step yet"; bounded by the settle attempts, then the error stands.
 */
async function whileReplicating<T>(
  write: () => Promise<T>,
  lagging: (err: unknown) => boolean,
  sleep: Sleep,
  settle: SettleOptions,
): Promise<T> {
  let delay = settle.delayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!lagging(err) || attempt >= settle.attempts) throw err;
      await sleep(delay);
      delay = Math.min(settle.maxDelayMs, delay * 2);
    }
  }
}

/** Makes one change; returns the warnings Exchange wrote. */
async function runChange(client: ExchangeClient, change: Change, sleep: Sleep, settle: SettleOptions): Promise<Warnings> {
  const values = (): Record<string, ExchangeValue> => Object.fromEntries(change.fields.map((f) => [f.field, f.new]));
  switch (change.action) {
    case 'create': {
      const { Enabled, ...params } = values();
      if (change.kind !== 'TransportRule') {
        // Connectors take -Enabled as one of their own parameters.
        return createObject(client, { kind: change.kind, name: change.name, params: values() });
      }
      const desired: DesiredObject = { kind: change.kind, name: change.name, params, enabled: Enabled !== false };
      // The rule names the outbound connector created a moment ago, which Exchange may not
      // have replicated yet: "couldn't be found" is retried for a while.
      return whileReplicating(() => createObject(client, desired), (err) => err instanceof ObjectNotFoundError, sleep, settle);
    }
    case 'update':
      return updateObject(client, change.kind, change.name, values());
    case 'remove':
      if (change.kind === 'OutboundConnector') {
        // Removed right after the rule that routes to it: until the rule's removal has
        // replicated, Exchange still finds the connector in use.
        return whileReplicating(
          () => removeObject(client, change.kind, change.name),
          (err) => err instanceof ConnectorInUseError,
          sleep,
          settle,
        );
      }
      return removeObject(client, change.kind, change.name);
    case 'enable':
    case 'disable':
      return setRuleEnabled(client, change.name, change.action === 'enable');
  }
}
