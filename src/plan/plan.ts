// Building a plan: read each tenant's live objects, compare them with the desired ones, and
// record the differences as data. Nothing here changes Exchange.
import type { ConfigRepo, Tenant } from '../model/index.ts';
import {
  CREATE_ORDER,
  OBJECT_NAMES,
  REMOVE_ORDER,
  ExchangeConnector,
  desiredObjects,
  acceptedDomainFindings,
  failoverNoteText,
  parseFailoverNote,
  isManagedBySigops,
  isRuleEnabled,
  listAcceptedDomains,
  listObjects,
  recipientIdentity,
  liveFields,
  markerField,
  valuesEqual,
  type AcceptedDomain,
  type DesiredObject,
  type ExchangeClient,
  type ExchangeOptions,
  type ExchangeRecord,
  type ObjectKind,
} from '../exchange/index.ts';
import { describeError } from '../errors/index.ts';
import { planChecksum } from './checksum.ts';
import { UnknownTenantError } from './errors.ts';
import { blockingFindings, isBlocking } from './findings.ts';
import { findRemovedTenants } from './history.ts';
import { mapLimit } from './pool.ts';
import type { Change, Conflict, FieldChange, LiveObject, Plan, RemovedTenant, TenantPlan } from './types.ts';

export interface PlanOptions {
  readonly config: ConfigRepo;
  /** Only this tenant (slug), present or deleted. */
  readonly tenant?: string;
  /** Also plan the offboarding of tenants whose file was deleted. */
  readonly prune?: boolean;
  /** How to reach Exchange; default: production URLs and credentials from the environment. */
  readonly exchange?: ExchangeOptions | ExchangeConnector;
  /** Tenants whose existing objects may change without --force (default 1). */
  readonly safetyLimit?: number;
  /** Tenants read (and applied) side by side (default 4). */
  readonly concurrency?: number;
}

export const DEFAULT_CONCURRENCY = 4;

export const DEFAULT_SAFETY_LIMIT = 1;

/** Entra answers meaning "this app is not in that tenant (any more)" or "no such tenant". */
const GONE_CODES = new Set(['AADSTS700016', 'AADSTS90002', 'AADSTS90072']);

export function connectorOf(exchange: PlanOptions['exchange']): ExchangeConnector {
  return exchange instanceof ExchangeConnector ? exchange : new ExchangeConnector(exchange ?? {});
}

/** Diff of desired vs live for every tenant in scope. Tenant failures become `error` in the plan. */
export async function planTenants(options: PlanOptions): Promise<Plan> {
  const connector = connectorOf(options.exchange);
  const history = await findRemovedTenants(options.config.root, options.config.tenants);
  let present = options.config.tenants;
  let removed = history.removed;
  if (options.tenant !== undefined) {
    present = present.filter((t) => t.slug === options.tenant);
    removed = removed.filter((t) => t.slug === options.tenant);
    if (present.length === 0 && removed.length === 0) throw new UnknownTenantError(options.tenant);
  }
  // Fail early (not once per tenant) when the environment holds no credentials.
  if (present.length > 0 || (options.prune && removed.length > 0)) connector.tokenProvider(present[0]?.cloud ?? removed[0]?.cloud);

  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const sorted = [...present].sort((a, b) => (a.slug < b.slug ? -1 : 1));
  const tenants: TenantPlan[] = await mapLimit(sorted, concurrency, (tenant) => planPresentTenant(connector, tenant));
  const notices = [...history.notices];
  if (options.prune) {
    const removedPlans = await mapLimit(removed, concurrency, (gone) => planRemovedTenant(connector, gone));
    for (const [i, gone] of removed.entries()) {
      const t = removedPlans[i]!;
      // The app was taken out of the tenant (or the tenant is gone) after offboarding: nothing
      // of ours can be left that sigops could reach; say so instead of failing every run.
      if (t.error?.code && GONE_CODES.has(t.error.code)) {
        notices.push(
          `deleted tenant "${gone.slug}" (${gone.tenantId}) is not reachable any more (${t.error.code}): ` +
            'nothing to remove through sigops; check its Exchange by hand if it was never offboarded',
        );
        const { error: _unreachable, ...rest } = t;
        tenants.push(rest);
        continue;
      }
      tenants.push(t);
    }
  }

  const limit = options.safetyLimit ?? DEFAULT_SAFETY_LIMIT;
  const changingExisting = tenants.filter((t) => t.changes.some((c) => c.action !== 'create')).map((t) => t.slug);
  const body: Omit<Plan, 'checksum'> = {
    version: 1,
    prune: options.prune ?? false,
    ...(options.tenant !== undefined ? { tenantFilter: options.tenant } : {}),
    tenants,
    pendingPrune: options.prune ? [] : removed,
    safety: { tenantsChangingExisting: changingExisting, limit, needsForce: changingExisting.length > limit },
    notices,
  };
  return { ...body, checksum: planChecksum(body) };
}

interface LiveState {
  readonly ours: Map<ObjectKind, LiveObject>;
  /** Objects with our marker under another name (renamed by hand, or left over). */
  readonly strays: LiveObject[];
  /** Objects with one of our names but without the marker. */
  readonly conflicts: Conflict[];
}

/** Reads the three kinds; an object counts as ours only when it carries the marker. */
async function readLive(client: ExchangeClient): Promise<LiveState> {
  const ours = new Map<ObjectKind, LiveObject>();
  const strays: LiveObject[] = [];
  const conflicts: Conflict[] = [];
  for (const kind of CREATE_ORDER) {
    const name = OBJECT_NAMES[kind];
    const records = await listObjects(client, kind);
    for (const r of records) {
      const recordName = String(r.Name ?? r.Identity ?? '');
      const named = recordName.toLowerCase() === name.toLowerCase();
      if (isManagedBySigops(r, kind)) {
        const live = { kind, name: recordName, fields: liveFields(kind, r) };
        if (named) ours.set(kind, { ...live, name });
        else strays.push(live);
      } else if (named) {
        conflicts.push({
          kind,
          name,
          message:
            `${kind} "${name}" exists but is not managed by sigops (no "managed-by: sigops" in ${markerField(kind)}): ` +
            `sigops will not touch it. Rename it, or add the marker to ${markerField(kind)} to let sigops adopt it.`,
        });
      }
    }
  }
  return { ours, strays, conflicts };
}

function strayConflicts(strays: readonly LiveObject[]): Conflict[] {
  return strays.map((o) => ({
    kind: o.kind,
    name: o.name,
    message:
      `${o.kind} "${o.name}" carries the sigops marker but not the name sigops uses ("${OBJECT_NAMES[o.kind]}"): ` +
      'rename it back, or remove it (or its marker) by hand; sigops does not guess which object is the right one.',
  }));
}

export async function planPresentTenant(connector: ExchangeConnector, tenant: Tenant): Promise<TenantPlan> {
  const base = {
    slug: tenant.slug,
    tenantId: tenant.id,
    tenantName: tenant.name,
    status: 'present' as const,
    enabled: tenant.enabled,
    // Recorded only for a sovereign cloud: plans of worldwide tenants stay as they were.
    ...(tenant.cloud && tenant.cloud !== 'global' ? { cloud: tenant.cloud } : {}),
  };
  let live: LiveState;
  let accepted: AcceptedDomain[];
  const client = connector.client(tenant.id, tenant.cloud);
  try {
    live = await readLive(client);
    accepted = await listAcceptedDomains(client);
  } catch (err) {
    return { ...base, changes: [], live: [], conflicts: [], error: describeError(err) };
  }
  const found = acceptedDomainFindings(tenant, accepted);
  const findings = found.length > 0 ? { findings: found } : {};
  const liveList = CREATE_ORDER.flatMap((k) => (live.ours.has(k) ? [live.ours.get(k)!] : []));
  // A lookalike blocks the whole tenant: routing mail to someone else's connector is worse than
  // doing nothing. So does a marked object under another name (a second route rule could be live).
  const conflicts = [...live.conflicts, ...strayConflicts(live.strays)];
  if (conflicts.length > 0) return { ...base, changes: [], live: [...liveList, ...live.strays], conflicts, ...findings };
  // So does a certificate name Exchange does not attribute to the tenant: routing mail to the
  // relay would have it refused on its way back (550 5.7.64 ATTR36), or lost for null senders.
  if (found.some(isBlocking)) return { ...base, changes: [], live: liveList, conflicts: [], ...findings };
  const failover = failoverOf(live.ours.get('TransportRule'));
  const held = failover ? { failover } : {};
  const desired = withFailover(desiredObjects(tenant), live.ours.get('TransportRule'), tenant.enabled);
  let ours: ReadonlyMap<ObjectKind, LiveObject> = live.ours;
  try {
    ours = await resolveGroupIdentities(client, desired, live.ours);
  } catch (err) {
    return { ...base, changes: [], live: liveList, conflicts: [], ...findings, ...held, error: describeError(err) };
  }
  const resolvedList = CREATE_ORDER.flatMap((k) => (ours.has(k) ? [ours.get(k)!] : []));
  return { ...base, changes: diffTenant(desired, ours), live: resolvedList, conflicts: [], ...findings, ...held };
}

/** The failover note on the live rule, if any. */
function failoverOf(rule: LiveObject | undefined): ReturnType<typeof parseFailoverNote> {
  const comments = rule?.fields.Comments;
  return typeof comments === 'string' ? parseFailoverNote(comments) : undefined;
}

/**
 * The desired rule as failover leaves it: its note stays in Comments (only the marker before it
 * is sigops's to compare and set, and an update of Comments keeps the note), and while the note
 * says `disabled` the rule's state is failover's: apply does not enable it into a dead fleet. A
 * paused tenant stays disabled whatever the note says.
 */
function withFailover(desired: readonly DesiredObject[], rule: LiveObject | undefined, tenantEnabled: boolean): DesiredObject[] {
  const comments = rule?.fields.Comments;
  if (typeof comments !== 'string' || failoverNoteText(comments) === '') return [...desired];
  const note = parseFailoverNote(comments);
  return desired.map((d) => {
    if (d.kind !== 'TransportRule') return d;
    const { enabled, ...rest } = d;
    const params = { ...d.params, Comments: `${String(d.params.Comments ?? '')}${failoverNoteText(comments)}` };
    const holds = note?.state === 'disabled' && tenantEnabled;
    return { ...rest, params, ...(holds || enabled === undefined ? {} : { enabled }) };
  });
}


/**
 * The groups of a rule condition (FromMemberOf) compare by identity, not by the text: Exchange
 * shows a group by its name or primary address, while the config may give any of its addresses
 * (a secondary proxy address too). Both sides are looked up with Get-Recipient; when they are
 * the same groups, the live value is read as the configured one, so a converged rule plans
 * nothing instead of drifting forever. A group that cannot be resolved keeps its text (the plan
 * then shows the difference and Exchange's answer to the change says what is wrong).
 */
async function resolveGroupIdentities(
  client: ExchangeClient,
  desired: readonly DesiredObject[],
  ours: ReadonlyMap<ObjectKind, LiveObject>,
): Promise<ReadonlyMap<ObjectKind, LiveObject>> {
  const rule = ours.get('TransportRule');
  const live = rule?.fields.FromMemberOf;
  const want = desired.find((d) => d.kind === 'TransportRule')?.params.FromMemberOf;
  if (!rule || !Array.isArray(live) || live.length === 0 || !Array.isArray(want) || want.length === 0) return ours;
  // The same text needs no look-up.
  if (valuesEqual('TransportRule', 'FromMemberOf', want, live)) return ours;
  const identities = new Map<string, string | undefined>(); // one look-up per distinct text
  const identify = async (value: string): Promise<string | undefined> => {
    const key = value.toLowerCase();
    if (!identities.has(key)) identities.set(key, await recipientIdentity(client, value));
    return identities.get(key);
  };
  const wanted = await Promise.all((want as readonly string[]).map(identify));
  const have = await Promise.all((live as readonly string[]).map(identify));
  const same = (ids: readonly (string | undefined)[]): Set<string> => new Set(ids.filter((i): i is string => i !== undefined));
  const unresolved = [...wanted, ...have].some((i) => i === undefined);
  const a = same(wanted);
  const b = same(have);
  if (unresolved || a.size !== b.size || [...a].some((i) => !b.has(i))) return ours;
  const out = new Map(ours);
  out.set('TransportRule', { ...rule, fields: { ...rule.fields, FromMemberOf: [...(want as readonly string[])] } });
  return out;
}

/** Changes turning `live` into `desired`: creates and updates in dependency order, then enable/disable. */
export function diffTenant(desired: readonly DesiredObject[], live: ReadonlyMap<ObjectKind, LiveObject>): Change[] {
  const changes: Change[] = [];
  const toggles: Change[] = [];
  for (const kind of CREATE_ORDER) {
    const want = desired.find((d) => d.kind === kind);
    if (!want) continue;
    const have = live.get(kind);
    if (!have) {
      const fields: FieldChange[] = Object.entries(want.params)
        .filter(([, v]) => v !== null)
        .map(([field, v]) => ({ field, old: null, new: v }));
      if (kind === 'TransportRule') fields.push({ field: 'Enabled', old: null, new: want.enabled ?? true });
      changes.push({ action: 'create', kind, name: want.name, fields });
      continue;
    }
    const fields: FieldChange[] = [];
    for (const [field, v] of Object.entries(want.params)) {
      const old = have.fields[field] ?? null;
      if (!valuesEqual(kind, field, v, old)) fields.push({ field, old, new: v });
    }
    if (fields.length > 0) changes.push({ action: 'update', kind, name: want.name, fields });
    if (kind === 'TransportRule' && want.enabled !== undefined) {
      const enabled = isRuleEnabled(have.fields);
      if (enabled !== want.enabled) {
        toggles.push({
          action: want.enabled ? 'enable' : 'disable',
          kind,
          name: want.name,
          fields: [{ field: 'State', old: enabled ? 'Enabled' : 'Disabled', new: want.enabled ? 'Enabled' : 'Disabled' }],
        });
      }
    }
  }
  return [...changes, ...toggles];
}

async function planRemovedTenant(connector: ExchangeConnector, gone: RemovedTenant): Promise<TenantPlan> {
  const base = {
    slug: gone.slug,
    tenantId: gone.tenantId,
    tenantName: gone.name,
    status: 'removed' as const,
    enabled: false,
    ...(gone.cloud ? { cloud: gone.cloud } : {}),
  };
  let live: LiveState;
  try {
    live = await readLive(connector.client(gone.tenantId, gone.cloud));
  } catch (err) {
    return { ...base, changes: [], live: [], conflicts: [], error: describeError(err) };
  }
  const liveList = [...CREATE_ORDER.flatMap((k) => (live.ours.has(k) ? [live.ours.get(k)!] : [])), ...live.strays];
  // Offboarding removes everything carrying the marker (strays too), rules first.
  // Lookalikes are not ours: they are simply left alone (no conflict).
  const changes: Change[] = REMOVE_ORDER.flatMap((kind) =>
    liveList
      .filter((o) => o.kind === kind)
      .map((have) => ({
        action: 'remove' as const,
        kind,
        name: have.name,
        fields: Object.entries(have.fields)
          .filter(([, v]) => v !== null)
          .map(([field, v]) => ({ field, old: v, new: null })),
      })),
  );
  return { ...base, changes, live: liveList, conflicts: [] };
}

/** Whether anything is to be done (what --detailed-exitcode reports as 2). */
export function hasChanges(plan: Plan): boolean {
  return plan.tenants.some((t) => t.changes.length > 0);
}

/** Whether the plan could not be computed completely (errors, conflicts, blocking findings): exit 1. */
export function hasErrors(plan: Plan): boolean {
  return plan.tenants.some((t) => t.error !== undefined || t.conflicts.length > 0 || blockingFindings(t).length > 0);
}
