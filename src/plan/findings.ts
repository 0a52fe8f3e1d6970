// Which of a tenant's accepted-domain findings stop its changes: errors (the certificate name
// Exchange would not attribute to the tenant) block like a conflict; warnings are only shown.
import type { DomainFinding, TenantPlan } from './types.ts';

export function isBlocking(finding: DomainFinding): boolean {
  return finding.severity === 'error';
}

export function blockingFindings(t: TenantPlan): readonly DomainFinding[] {
  return (t.findings ?? []).filter(isBlocking);
}
