// Errors of planning and applying as a whole (per-tenant failures are data in the plan/report).
import { SigopsError } from '../errors/index.ts';

/** The `code` of each plan error, for callers that see only an error's summary (the Action). */
export const PLAN_ERROR_CODE = {
  unknownTenant: 'unknown-tenant',
  stalePlan: 'stale-plan',
  safetyLimit: 'safety-limit',
} as const;

/** Any error that stops a whole plan or apply; callers decide on `code`. */
export abstract class PlanError extends SigopsError {}

/** `--tenant SLUG` names no tenant (present or removed). */
export class UnknownTenantError extends PlanError {
  override readonly name = 'UnknownTenantError';
  constructor(readonly slug: string) {
    super(`no tenant "${slug}" in the config repo (nor deleted from it)`, {
      code: PLAN_ERROR_CODE.unknownTenant,
      advice: 'Give --tenant the slug of a file in tenants/ (its name without .yaml), or of a tenant deleted from the repository.',
    });
  }
}

/** The plan no longer matches the config + live state it was computed from. */
export class StalePlanError extends PlanError {
  override readonly name = 'StalePlanError';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`stale plan: checksum ${short(expected)} was approved but the current plan is ${short(actual)}`, {
      code: PLAN_ERROR_CODE.stalePlan,
      advice: 'Exchange or the config changed since this plan was made: run `sigops plan` again and review the new plan.',
    });
  }
}

/** octoDNS-style safety: changing existing objects in many tenants at once needs --force. */
export class SafetyLimitError extends PlanError {
  override readonly name = 'SafetyLimitError';
  constructor(
    readonly tenants: readonly string[],
    readonly limit: number,
  ) {
    super(
      `this plan changes existing Exchange objects in ${tenants.length} tenants (${tenants.join(', ')}), ` +
        `more than the limit of ${limit}: review it, then apply with --force`,
      {
        code: PLAN_ERROR_CODE.safetyLimit,
        advice: 'Nothing was changed. Review the plan (`sigops plan`), then apply it once with --force.',
      },
    );
  }
}

function short(sum: string): string {
  return sum.slice(0, 12);
}
