// Plan data: what sigops would change in each tenant's Exchange Online, field by field.
// A plan is plain JSON-able data so it can be rendered, checksummed, stored and applied later.
import type { DomainFinding, ExchangeValue, FailoverNote, ObjectKind } from '../exchange/index.ts';
import type { RequestReference } from '../errors/index.ts';
import type { TenantCloud } from '../model/index.ts';

export type { DomainFinding, ExchangeValue, FailoverNote, ObjectKind };

export type ChangeAction = 'create' | 'update' | 'remove' | 'enable' | 'disable';

/** One parameter that differs: `old` is the live value (null when absent), `new` the desired one. */
export interface FieldChange {
  readonly field: string;
  readonly old: ExchangeValue;
  readonly new: ExchangeValue;
}

export interface Change {
  readonly action: ChangeAction;
  readonly kind: ObjectKind;
  readonly name: string;
  /** create: every parameter (old null); update: only the differing ones; remove: live values (new null). */
  readonly fields: readonly FieldChange[];
}

/** A managed object as read from Exchange, reduced to the parameters sigops manages. */
export interface LiveObject {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly fields: Readonly<Record<string, ExchangeValue>>;
}

/** An object that blocks sigops: it has one of our names but not our marker. */
export interface Conflict {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly message: string;
}

export interface TenantPlanError {
  readonly name: string; // error class, e.g. AuthenticationError
  readonly code?: string; // AADSTS…, ErrId, HTTP status …
  readonly message: string;
  readonly advice?: string;
  /** The failed call to Microsoft, for support (left out of the checksum: it names a call, not a state). */
  readonly request?: RequestReference;
}

export interface TenantPlan {
  readonly slug: string;
  readonly tenantId: string;
  readonly tenantName: string;
  /** `present`: the tenant file exists; `removed`: recovered from git history (offboarding). */
  readonly status: 'present' | 'removed';
  readonly enabled: boolean;
  /** The tenant's Microsoft cloud when it is not the worldwide one (apply talks to the same). */
  readonly cloud?: TenantCloud;
  readonly changes: readonly Change[];
  readonly live: readonly LiveObject[];
  readonly conflicts: readonly Conflict[];
  /**
   * What the tenant's accepted domains (Get-AcceptedDomain) say about its file; present only
   * when there is something to say. An `error` (the certificate name is not the tenant's) blocks
   * the tenant's changes like a conflict: mail coming back would be refused.
   */
  readonly findings?: readonly DomainFinding[];
  /**
   * The failover note on the live rule (`sigops failover`), when there is one. While it says
   * `disabled`, the plan never enables the rule: failover re-enables it once the fleet is healthy.
   */
  readonly failover?: FailoverNote;
  readonly error?: TenantPlanError;
}

/** A tenant whose file was deleted: it is offboarded only with `--prune`. */
export interface RemovedTenant {
  readonly slug: string;
  readonly tenantId: string;
  readonly name: string;
  /** Its `cloud:` when not the worldwide one. */
  readonly cloud?: TenantCloud;
  readonly deletedIn: string; // commit that deleted tenants/<slug>.yaml
}

export interface PlanSafety {
  /** Tenants whose existing objects would be updated, enabled/disabled or removed. */
  readonly tenantsChangingExisting: readonly string[];
  readonly limit: number;
  /** true when applying needs --force. */
  readonly needsForce: boolean;
}

export interface Plan {
  readonly version: 1;
  readonly prune: boolean;
  readonly tenantFilter?: string;
  readonly tenants: readonly TenantPlan[];
  /** Deleted tenants not planned because --prune was not given. */
  readonly pendingPrune: readonly RemovedTenant[];
  readonly safety: PlanSafety;
  /** Things the reader should know (shallow clone, …). */
  readonly notices: readonly string[];
  /** sha256 (hex) of the canonical JSON of everything above: apply refuses a plan whose checksum moved. */
  readonly checksum: string;
}

export type PlanFormat = 'text' | 'markdown' | 'json';

export type StepOutcome = 'done' | 'failed' | 'skipped';

export interface AppliedStep {
  readonly change: Change;
  readonly outcome: StepOutcome;
  readonly error?: TenantPlanError;
  /** What Exchange warned about while making the change (it was made). */
  readonly warnings?: readonly string[];
}

export interface TenantApplyReport {
  readonly slug: string;
  readonly tenantId: string;
  /** converged: nothing left to do afterwards; unchanged: nothing was to do; failed: see error/steps. */
  readonly outcome: 'converged' | 'unchanged' | 'failed';
  readonly steps: readonly AppliedStep[];
  readonly error?: TenantPlanError;
  /** Changes still pending after apply (re-plan), when not converged. */
  readonly remaining: readonly Change[];
}

export interface ApplyReport {
  readonly checksum: string;
  readonly converged: boolean;
  readonly tenants: readonly TenantApplyReport[];
}
