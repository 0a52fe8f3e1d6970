// A plan's checksum: sha256 of a canonical JSON (sorted keys) of the plan, live state included,
// so a plan approved in a pull request can be applied only while nothing moved underneath it.
import { createHash } from 'node:crypto';
import type { Plan } from './types.ts';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * Covers what apply would do and the live state it starts from. Left out: the notices (advice
 * to the reader), the commit that deleted a pending-prune tenant, which a squash merge of
 * the reviewed pull request rewrites although nothing about the tenant changed, and the request
 * ids of a tenant's error (they name the call that failed, which is new on every run).
 */
export function planChecksum(plan: Omit<Plan, 'checksum'> | Plan): string {
  const { checksum: _ignored, notices: _notices, pendingPrune, tenants, ...rest } = plan as Plan;
  const prune = pendingPrune.map(({ deletedIn: _commit, ...tenant }) => tenant);
  const withoutIds = tenants.map((t) => {
    if (!t.error?.request) return t;
    const { request: _ids, ...error } = t.error;
    return { ...t, error };
  });
  return createHash('sha256').update(canonicalJson({ ...rest, tenants: withoutIds, pendingPrune: prune })).digest('hex');
}
