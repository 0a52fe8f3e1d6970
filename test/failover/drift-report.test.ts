// The Action's drift report while failover holds a rule disabled: no drift, but the hold is said
// first (mail flows unsigned) and the tenant's details carry the failover note.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driftReport, failoverHeld } from '../../src/github/report.ts';
import { renderPlan, type Plan, type TenantPlan } from '../../src/plan/index.ts';

const held: TenantPlan = {
  slug: 'contoso',
  tenantId: '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10',
  tenantName: 'Contoso Ltd',
  status: 'present',
  enabled: true,
  changes: [],
  live: [],
  conflicts: [],
  failover: { state: 'disabled', since: '2026-11-30T10:12:00.000Z', unhealthySince: '2026-11-30T10:02:00.000Z', reason: 'no relay healthy: https://relay1.example.net/healthz ECONNREFUSED' },
};
const { failover: _none, ...notHeld } = held;
const plan: Plan = {
  version: 1,
  prune: false,
  tenants: [held, { ...notHeld, slug: 'fabrikam', tenantId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', tenantName: 'Fabrikam Ltd' }],
  pendingPrune: [],
  safety: { tenantsChangingExisting: [], limit: 1, needsForce: false },
  notices: [],
  checksum: '0'.repeat(64),
};

test('the drift report says failover holds the rule, and shows the note in the tenant details', () => {
  assert.deepEqual(failoverHeld(plan), ['contoso']);
  const report = driftReport(plan, renderPlan(plan, 'markdown'), { sha: 'abcdef1234567' });
  assert.match(report, /✅ sigops drift check: Exchange matches the repository/);
  assert.match(report, /🛑 \*\*Failover\*\* holds the routing rule disabled in `contoso`/);
  assert.match(report, /\| `contoso` Contoso Ltd \| `7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10` \| ✅ no changes · 🛑 rule held disabled by failover \|/);
  assert.match(report, /<details><summary><code>contoso<\/code>/);
  assert.match(report, /failover: rule disabled by failover since 2026-11-30T10:12:00\.000Z \(relay fleet unhealthy since 2026-11-30T10:02:00\.000Z: no relay healthy/);
  assert.doesNotMatch(report, /<details><summary><code>fabrikam<\/code>/);
});
