import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, planChecksum, renderApplyReport, renderPlan, type ApplyReport, type Plan } from '../../src/plan/index.ts';

function samplePlan(): Plan {
  const body: Omit<Plan, 'checksum'> = {
    version: 1,
    prune: false,
    tenants: [
      {
        slug: 'contoso',
        tenantId: '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10',
        tenantName: 'Contoso <Ltd> | EU',
        status: 'present',
        enabled: true,
        changes: [
          { action: 'create', kind: 'InboundConnector', name: 'sigops inbound', fields: [{ field: 'RequireTls', old: null, new: true }] },
          {
            action: 'update',
            kind: 'TransportRule',
            name: 'sigops route',
            fields: [
              { field: 'SentToScope', old: 'NotInOrganization', new: null },
              { field: 'FromMemberOf', old: null, new: ['signatures@contoso.com'] },
            ],
          },
          { action: 'disable', kind: 'TransportRule', name: 'sigops route', fields: [{ field: 'State', old: 'Enabled', new: 'Disabled' }] },
        ],
        live: [],
        conflicts: [],
      },
      {
        slug: 'fabrikam',
        tenantId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
        tenantName: 'Fabrikam',
        status: 'present',
        enabled: true,
        changes: [],
        live: [],
        conflicts: [],
        error: { name: 'AuthenticationError', code: 'AADSTS7000215', message: 'Invalid client secret provided.', advice: 'renew it' },
      },
    ],
    pendingPrune: [{ slug: 'oldco', tenantId: '11111111-1111-1111-1111-111111111111', name: 'Old Co', deletedIn: 'abcdef1234567890' }],
    safety: { tenantsChangingExisting: ['contoso'], limit: 1, needsForce: false },
    notices: [],
  };
  return { ...body, checksum: planChecksum(body) };
}

test('text rendering: symbols, field-level old → new, problems, pending prune, checksum', () => {
  const plan = samplePlan();
  const text = renderPlan(plan, 'text');
  assert.match(text, /\+ create InboundConnector "sigops inbound"\n\s+RequireTls\s+true/);
  assert.match(text, /~ update TransportRule "sigops route"\n\s+SentToScope\s+"NotInOrganization" → \(none\)\n\s+FromMemberOf\s+\(none\) → \["signatures@contoso.com"\]/);
  assert.match(text, /! disable TransportRule "sigops route"/);
  assert.match(text, /error: AuthenticationError \[AADSTS7000215\]: Invalid client secret provided\.\n\s+advice: renew it/);
  assert.match(text, /Tenant "oldco" .* deleted from the repo in abcdef1: .*--prune/);
  assert.match(text, /Plan: 1 to create, 1 to update, 0 to remove, 1 to disable in 1 of 2 tenants; 1 tenant could not be planned\./);
  assert.ok(text.includes(`Checksum: ${plan.checksum}`));
});

test('markdown rendering: summary table, details folded per tenant, escaped names, checksum', () => {
  const plan = samplePlan();
  const md = renderPlan(plan, 'markdown');
  assert.match(md, /^### sigops plan/);
  assert.match(md, /\| `contoso` Contoso &lt;Ltd&gt; \\\| EU \| `7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10` \| 1 to create, 1 to update, 1 to disable \|/);
  assert.match(md, /<details><summary><code>contoso<\/code>: /);
  assert.match(md, /```diff\n\+ create InboundConnector "sigops inbound"\n\+\s+RequireTls\s+true/);
  assert.match(md, /-\s+SentToScope\s+"NotInOrganization"\n\+\s+SentToScope\s+\(none\)/);
  assert.match(md, /\| ❌ AuthenticationError \|/);
  assert.equal(md.split('<details>').length - 1, 2, 'one fold per tenant with something to show');
  assert.equal(md.split('</details>').length - 1, 2);
  assert.ok(md.includes(plan.checksum));
});

test('json rendering round-trips and its checksum verifies', () => {
  const plan = samplePlan();
  const parsed = JSON.parse(renderPlan(plan, 'json')) as Plan;
  assert.deepEqual(parsed, plan);
  assert.equal(planChecksum(parsed), plan.checksum);
  const tampered = { ...parsed, prune: true };
  assert.notEqual(planChecksum(tampered), plan.checksum);
});

test('canonical JSON ignores key order and undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: undefined }] }), canonicalJson({ a: [true, null, { d: 'x' }], b: 1 }));
  assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
});

test('apply report rendering names every tenant outcome and failing step', () => {
  const report: ApplyReport = {
    checksum: 'c'.repeat(64),
    converged: false,
    tenants: [
      {
        slug: 'contoso',
        tenantId: 'id1',
        outcome: 'failed',
        steps: [
          { change: { action: 'create', kind: 'OutboundConnector', name: 'sigops outbound', fields: [] }, outcome: 'done' },
          {
            change: { action: 'create', kind: 'InboundConnector', name: 'sigops inbound', fields: [] },
            outcome: 'failed',
            error: { name: 'ObjectExistsError', message: 'already exists', advice: 'rename it' },
          },
          { change: { action: 'create', kind: 'TransportRule', name: 'sigops route', fields: [] }, outcome: 'skipped' },
        ],
        remaining: [],
      },
      { slug: 'fabrikam', tenantId: 'id2', outcome: 'converged', steps: [], remaining: [] },
    ],
  };
  const text = renderApplyReport(report, 'text');
  assert.match(text, /contoso \(id1\): failed/);
  assert.match(text, /failed\s+create InboundConnector "sigops inbound"\n\s+ObjectExistsError: already exists \(rename it\)/);
  assert.match(text, /skipped create TransportRule/);
  assert.match(text, /fabrikam \(id2\): converged/);
  assert.match(text, /NOT converged/);
  assert.match(renderApplyReport(report, 'markdown'), /- ❌ `contoso` \(id1\): failed/);
  assert.deepEqual(JSON.parse(renderApplyReport(report, 'json')), report);
});

test('markdown stays under the size limit: tenant details are left out, the table and checksum stay', () => {
  const plan = samplePlan();
  const small = renderPlan(plan, 'markdown', { maxChars: 900 });
  assert.ok(small.length < 1400, `length ${small.length}`);
  assert.match(small, /\| `fabrikam` Fabrikam \|/);
  assert.match(small, /Details of \d more tenants? left out/);
  assert.ok(small.includes(plan.checksum));
  assert.doesNotMatch(renderPlan(plan, 'markdown'), /left out/);
});

test('the checksum ignores notices and the commit that deleted a pending-prune tenant, but not the tenant itself', () => {
  const base = {
    version: 1 as const,
    prune: false,
    tenants: [],
    pendingPrune: [{ slug: 'old', tenantId: '11111111-1111-4111-8111-111111111111', name: 'Old', deletedIn: 'aaaaaaa' }],
    safety: { tenantsChangingExisting: [], limit: 1, needsForce: false },
    notices: [],
  };
  const squashed = { ...base, pendingPrune: [{ ...base.pendingPrune[0]!, deletedIn: 'bbbbbbb' }], notices: ['shallow clone'] };
  assert.equal(planChecksum(squashed), planChecksum(base));
  const other = { ...base, pendingPrune: [{ ...base.pendingPrune[0]!, slug: 'older' }] };
  assert.notEqual(planChecksum(other), planChecksum(base));
  assert.notEqual(planChecksum({ ...base, prune: true }), planChecksum(base));
});
