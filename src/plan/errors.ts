// Errors of planning and applying as a whole (per-tenant failures are data in the plan/report).

export class PlanError extends Error {
  override readonly name: string = 'PlanError';
}

/** `--tenant SLUG` names no tenant (present or removed). */
export class UnknownTenantError extends PlanError {
  override readonly name = 'UnknownTenantError';
  constructor(readonly slug: string) {
    super(`no tenant "${slug}" in the config repo (nor deleted from it)`);
  }
}

/** The plan no longer matches the config + live state it was computed from. */
export class StalePlanError extends PlanError {
  override readonly name = 'StalePlanError';
  readonly advice = 'Exchange or the config changed since this plan was made: run `sigops plan` again and review the new plan.';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`stale plan: checksum ${short(expected)} was approved but the current plan is ${short(actual)}`);
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
    );
  }
}

function short(sum: string): string {
  return sum.slice(0, 12);
}
