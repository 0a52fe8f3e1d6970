// What `sigops doctor` reports: per tenant, one result per check, each with the findings (what
// is wrong and what to fix) it made. Plain data, so the text and JSON renderings and the tests
// all read the same thing.

/** The checks, in the order they run and are shown. */
export type CheckId =
  | 'app-permission' // the token for Exchange Online carries Exchange.ManageAsApp
  | 'exchange-role' // read-only cmdlets answer (the app holds an Exchange role)
  | 'accepted-domains' // domains and certificateDomain are accepted domains of the tenant
  | 'smart-host-dns' // smartHost resolves (A/AAAA)
  | 'smart-host-tls' // SMTP on port 25: greeting, EHLO, STARTTLS, certificate for smartHost
  | 'client-certificate' // the relay's client certificate for certificateDomain
  | 'sent-items-scope'; // only for a tenant with sentItems: Mail.ReadWrite limited by a management scope

export const CHECK_ORDER: readonly CheckId[] = [
  'app-permission',
  'exchange-role',
  'accepted-domains',
  'smart-host-dns',
  'smart-host-tls',
  'client-certificate',
];

/** Checks listed after those, only for the tenants that use the feature they check. */
export const FEATURE_CHECKS: readonly CheckId[] = ['sent-items-scope'];

export type Severity = 'error' | 'warning';

/** Something to fix. */
export interface Finding {
  /** Slug of the tenant it was found for. */
  readonly tenant: string;
  readonly check: CheckId;
  readonly severity: Severity;
  /** Stable, machine-readable kind of problem (e.g. `certificate-expired`, `AADSTS7000215`). */
  readonly code: string;
  readonly message: string;
  /** What to do about it. */
  readonly advice: string;
}

/** What one check function found: a summary (passed or skipped), the problems, and whether it ran. */
export interface Outcome {
  /** What was verified (when nothing is wrong), or why the check did not run (skipped). */
  readonly summary: string;
  readonly problems: readonly Problem[];
  readonly skipped?: boolean;
}

/** The check result of an outcome, its problems attributed to the tenant. */
export function resultFrom(tenant: string, check: CheckId, outcome: Outcome): CheckResult {
  if (outcome.skipped && outcome.problems.length === 0) return skipped(check, outcome.summary);
  return resultOf(check, outcome.summary, findingsOf(tenant, check, outcome.problems));
}

/** A finding before it is attributed to a tenant and check (shared probes make these once). */
export type Problem = Omit<Finding, 'tenant' | 'check'>;

export function findingsOf(tenant: string, check: CheckId, problems: readonly Problem[]): Finding[] {
  return problems.map((p) => ({ tenant, check, ...p }));
}

/**
 * One check for one tenant. `passed`: nothing to fix (`summary` says what was verified);
 * `failed`: see the findings; `skipped`: could not run (`summary` says why, and how to run it).
 */
export interface CheckResult {
  readonly check: CheckId;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly summary: string;
  readonly findings: readonly Finding[];
}

export interface TenantReport {
  readonly slug: string;
  readonly tenantId: string;
  readonly name: string;
  readonly checks: readonly CheckResult[];
}

export interface DoctorReport {
  readonly version: 1;
  readonly tenants: readonly TenantReport[];
}

/** Every finding of the report, tenant by tenant, check by check. */
export function allFindings(report: DoctorReport): Finding[] {
  return report.tenants.flatMap((t) => t.checks.flatMap((c) => c.findings));
}

export function findingCounts(report: DoctorReport): { errors: number; warnings: number } {
  const findings = allFindings(report);
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

/** A check result made of findings (failed when there is any, else passed with `summary`). */
export function resultOf(check: CheckId, summary: string, findings: readonly Finding[]): CheckResult {
  return { check, status: findings.length > 0 ? 'failed' : 'passed', summary, findings };
}

export function skipped(check: CheckId, summary: string): CheckResult {
  return { check, status: 'skipped', summary, findings: [] };
}
