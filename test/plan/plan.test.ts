// plan → apply → plan against the fake Exchange Online, through the real client and msal.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tenant } from '../../src/model/index.ts';
import {
  SafetyLimitError,
  StalePlanError,
  applyPlan,
  hasChanges,
  hasErrors,
  planTenants,
  renderPlan,
  type Plan,
} from '../../src/plan/index.ts';
import { ExchangeConnector } from '../../src/exchange/index.ts';
import { CONTOSO_ID, FABRIKAM_ID, configOf, startHarness, tenant, type Harness } from '../exchange/helpers.ts';

let h: Harness;
let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sigops-plan-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
beforeEach(async () => {
  if (h) await h.fake.stop();
  h = await startHarness();
});
after(() => h?.fake.stop());

// Fresh tenant ids per test keep tests independent even on one fake.
function contoso(overrides: Parameters<typeof tenant>[2] = {}): Tenant {
  return tenant('contoso', CONTOSO_ID, overrides);
}

async function plan(tenants: Tenant[], extra: { prune?: boolean; tenant?: string } = {}): Promise<Plan> {
  return planTenants({ config: configOf(root, tenants), exchange: h.exchange, ...extra });
}

async function converge(tenants: Tenant[], force = false): Promise<Plan> {
  const p = await plan(tenants);
  const report = await applyPlan(p, { config: configOf(root, tenants), exchange: h.exchange, force });
  assert.equal(report.converged, true, JSON.stringify(report, null, 2));
  return p;
}

test('a fresh tenant plans three creates; apply creates connectors before the rule; the next plan is empty', async () => {
  n++;
  const first = await plan([contoso()]);
  const t = first.tenants[0]!;
  assert.deepEqual(
    t.changes.map((c) => `${c.action} ${c.kind} ${c.name}`),
    ['create OutboundConnector sigops outbound', 'create InboundConnector sigops inbound', 'create TransportRule sigops route'],
  );
  const rule = t.changes[2]!;
  const field = (name: string) => rule.fields.find((f) => f.field === name)?.new;
  assert.equal(field('SentToScope'), 'NotInOrganization');
  assert.equal(field('ExceptIfHeaderContainsMessageHeader'), 'X-Sigops-Processed');
  assert.deepEqual(field('ExceptIfHeaderContainsWords'), ['true']);
  assert.equal(field('ExceptIfMessageTypeMatches'), 'Calendaring');
  assert.equal(field('ExceptIfMessageSizeOver'), '150MB');
  assert.equal(field('FromMemberOf'), undefined, 'senders: all → no FromMemberOf');
  assert.equal(field('Enabled'), true);
  assert.deepEqual(field('SenderDomainIs'), ['contoso.com']);
  assert.ok(hasChanges(first));

  const report = await applyPlan(first, { config: configOf(root, [contoso()]), exchange: h.exchange });
  assert.equal(report.converged, true);
  assert.equal(report.tenants[0]!.outcome, 'converged');
  assert.deepEqual(h.fake.writes(CONTOSO_ID), [
    'New-OutboundConnector sigops outbound',
    'New-InboundConnector sigops inbound',
    'New-TransportRule sigops route',
  ]);
  const live = h.fake.object(CONTOSO_ID, 'OutboundConnector', 'sigops outbound')!;
  assert.deepEqual(live.SmartHosts, ['relay.sigops.example.net']);
  assert.equal(live.TlsSettings, 'DomainValidation');
  assert.equal(live.Comment, 'managed-by: sigops; tenant: contoso');
  assert.equal(h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!.ExceptIfMessageSizeOver, '150 MB (157,286,400 bytes)');

  const again = await plan([contoso()]);
  assert.equal(hasChanges(again), false);
  assert.equal(again.tenants[0]!.live.length, 3);
});

test('changing internal, senders and smartHost gives field-level updates', async () => {
  await converge([contoso()]);
  const changed = contoso({ exchange: { internal: true, senders: { kind: 'memberOf', group: 'signatures@contoso.com' }, smartHost: 'relay2.sigops.example.net' } });
  const p = await plan([changed]);
  const changes = p.tenants[0]!.changes;
  assert.deepEqual(changes.map((c) => `${c.action} ${c.kind}`), ['update OutboundConnector', 'update TransportRule']);
  assert.deepEqual(changes[0]!.fields, [
    { field: 'SmartHosts', old: ['relay.sigops.example.net'], new: ['relay2.sigops.example.net'] },
    { field: 'TlsDomain', old: 'relay.sigops.example.net', new: 'relay2.sigops.example.net' },
  ]);
  assert.deepEqual(changes[1]!.fields, [
    { field: 'SentToScope', old: 'NotInOrganization', new: null },
    { field: 'FromMemberOf', old: null, new: ['signatures@contoso.com'] },
  ]);
  const report = await applyPlan(p, { config: configOf(root, [changed]), exchange: h.exchange });
  assert.equal(report.converged, true, JSON.stringify(report));
  const rule = h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!;
  assert.equal(rule.SentToScope, null);
  assert.deepEqual(rule.FromMemberOf, ['signatures@contoso.com']);
  assert.equal(hasChanges(await plan([changed])), false);
  // Inbound connector untouched: only what differs is sent.
  assert.ok(!h.fake.writes(CONTOSO_ID).some((w) => w.startsWith('Set-InboundConnector')));
});

test('pausing disables the rule (Disable-TransportRule, never Set -Enabled) and un-pausing enables it', async () => {
  await converge([contoso()]);
  const paused = contoso({ enabled: false });
  const p = await plan([paused]);
  assert.deepEqual(p.tenants[0]!.changes, [
    { action: 'disable', kind: 'TransportRule', name: 'sigops route', fields: [{ field: 'State', old: 'Enabled', new: 'Disabled' }] },
  ]);
  await applyPlan(p, { config: configOf(root, [paused]), exchange: h.exchange });
  assert.equal(h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!.State, 'Disabled');
  assert.ok(h.fake.object(CONTOSO_ID, 'OutboundConnector', 'sigops outbound'), 'connectors stay');
  assert.equal(hasChanges(await plan([paused])), false);

  const resumed = await plan([contoso()]);
  assert.deepEqual(resumed.tenants[0]!.changes.map((c) => c.action), ['enable']);
  await applyPlan(resumed, { config: configOf(root, [contoso()]), exchange: h.exchange });
  assert.equal(h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!.State, 'Enabled');
  assert.ok(h.fake.writes(CONTOSO_ID).includes('Disable-TransportRule sigops route'));
  assert.ok(h.fake.writes(CONTOSO_ID).includes('Enable-TransportRule sigops route'));
});

test('a paused tenant that has nothing yet gets its rule created disabled', async () => {
  await converge([contoso({ enabled: false })]);
  assert.equal(h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!.State, 'Disabled');
});

test('lookalikes: an object named like ours without the marker blocks the tenant and is never touched', async () => {
  const theirs = { Name: 'sigops outbound', ConnectorType: 'Partner', UseMXRecord: true, Comment: 'made by hand' };
  h.fake.seed(CONTOSO_ID, 'OutboundConnector', theirs);
  // Unrelated objects, even sigops-sounding ones, are simply ignored.
  h.fake.seed(FABRIKAM_ID, 'TransportRule', { Name: 'Route via sigops (old)', Priority: 0, Comments: 'legacy' });
  h.fake.seed(FABRIKAM_ID, 'InboundConnector', { Name: 'Partner inbound', ConnectorType: 'Partner', Comment: 'managed-by: someone-else' });
  const fabrikam = tenant('fabrikam', FABRIKAM_ID);
  const p = await plan([contoso(), fabrikam]);
  const c = p.tenants.find((t) => t.slug === 'contoso')!;
  assert.equal(c.changes.length, 0);
  assert.equal(c.conflicts.length, 1);
  assert.match(c.conflicts[0]!.message, /not managed by sigops/);
  assert.ok(hasErrors(p));

  const report = await applyPlan(p, { config: configOf(root, [contoso(), fabrikam]), exchange: h.exchange });
  assert.equal(report.converged, false);
  assert.equal(report.tenants.find((t) => t.slug === 'contoso')!.outcome, 'failed');
  assert.equal(report.tenants.find((t) => t.slug === 'fabrikam')!.outcome, 'converged', 'the other tenant goes on');
  assert.deepEqual(h.fake.writes(CONTOSO_ID), []);
  assert.equal(h.fake.object(CONTOSO_ID, 'OutboundConnector', 'sigops outbound')!.Comment, 'made by hand');
  // Our rule goes to priority 0 and the admin's own rule moves down, unchanged otherwise.
  const legacy = h.fake.object(FABRIKAM_ID, 'TransportRule', 'Route via sigops (old)')!;
  assert.equal(legacy.Comments, 'legacy');
  assert.equal(legacy.Priority, 1);
  assert.equal(h.fake.object(FABRIKAM_ID, 'TransportRule', 'sigops route')!.Priority, 0);
  assert.equal(h.fake.object(FABRIKAM_ID, 'InboundConnector', 'Partner inbound')!.Comment, 'managed-by: someone-else');
  assert.ok(!h.fake.writes(FABRIKAM_ID).some((w) => /old|Partner/.test(w)));
});

test('throttling and replication lag are survived, also by the re-plan after apply', async () => {
  h.fake.setReplicationLag(5);
  h.fake.throttleNext(2, { status: 429, retryAfterSeconds: 2 });
  const p = await plan([contoso()]);
  h.fake.throttleNext(1, { concurrency: true });
  const report = await applyPlan(p, { config: configOf(root, [contoso()]), exchange: h.exchange });
  assert.equal(report.converged, true, JSON.stringify(report, null, 2));
  // The rule creation hit "connector couldn't be found" (not replicated yet) and was retried.
  assert.ok(h.fake.calls.some((c) => c.cmdlet === 'New-TransportRule' && c.status === 404));
  // The first re-plan after the last write still missed the rule (lag) and was repeated.
  const lastWrite = h.fake.calls.findLastIndex((c) => c.status === 200 && !c.cmdlet.startsWith('Get-'));
  const rereads = h.fake.calls.slice(lastWrite + 1).filter((c) => c.cmdlet === 'Get-TransportRule');
  assert.ok(rereads.length >= 2, `re-plans after apply: ${rereads.length}`);
  // Throttling was waited out as the service asked (Retry-After: 2).
  assert.ok(h.sleeps.filter((ms) => ms >= 2000).length >= 2, `slept ${h.sleeps.join(',')}`);
  assert.equal(h.fake.objects(CONTOSO_ID, 'TransportRule').length, 1, 'no duplicate created during lag');
});

test('a stale plan is refused: live state moved, or the approved checksum differs', async () => {
  const p = await plan([contoso()]);
  // Someone creates an object of ours by hand between plan and apply.
  h.fake.seed(CONTOSO_ID, 'InboundConnector', { Name: 'sigops inbound', ConnectorType: 'OnPremises', TlsSenderCertificateName: 'x', Comment: 'managed-by: sigops; tenant: contoso' });
  await assert.rejects(applyPlan(p, { config: configOf(root, [contoso()]), exchange: h.exchange }), StalePlanError);
  const fresh = await plan([contoso()]);
  assert.notEqual(fresh.checksum, p.checksum);
  await assert.rejects(
    applyPlan(fresh, { config: configOf(root, [contoso()]), exchange: h.exchange, expectedChecksum: p.checksum }),
    (err: unknown) => err instanceof StalePlanError && /stale plan/.test(err.message),
  );
  assert.deepEqual(h.fake.writes(CONTOSO_ID), [], 'nothing applied');
});

test('changing existing objects in more tenants than the limit needs --force', async () => {
  const both = [contoso(), tenant('fabrikam', FABRIKAM_ID)];
  await converge(both); // creates only: no force needed
  const moved = both.map((t) => ({ ...t, exchange: { ...t.exchange, smartHost: 'relay9.sigops.example.net' } }));
  const p = await plan(moved);
  assert.equal(p.safety.needsForce, true);
  assert.deepEqual(p.safety.tenantsChangingExisting, ['contoso', 'fabrikam']);
  await assert.rejects(applyPlan(p, { config: configOf(root, moved), exchange: h.exchange }), SafetyLimitError);
  const report = await applyPlan(p, { config: configOf(root, moved), exchange: h.exchange, force: true });
  assert.equal(report.converged, true);
  // One tenant at a time stays under the limit.
  const one = await plan(moved.map((t) => ({ ...t, exchange: { ...t.exchange, internal: true } })), { tenant: 'fabrikam' });
  assert.equal(one.safety.needsForce, false);
});

test('a failing tenant does not stop the others, and every outcome is reported', async () => {
  h.fake.setExchangeRole(CONTOSO_ID, false);
  const both = [contoso(), tenant('fabrikam', FABRIKAM_ID)];
  const p = await plan(both);
  const c = p.tenants.find((t) => t.slug === 'contoso')!;
  assert.equal(c.error?.name, 'ForbiddenError');
  assert.match(c.error?.advice ?? '', /Exchange Administrator/);
  const report = await applyPlan(p, { config: configOf(root, both), exchange: h.exchange });
  assert.equal(report.converged, false);
  assert.deepEqual(
    report.tenants.map((t) => [t.slug, t.outcome]),
    [
      ['contoso', 'failed'],
      ['fabrikam', 'converged'],
    ],
  );
});

test('a step failing mid-way skips the steps that depend on it', async () => {
  const p = await plan([contoso()]);
  // Someone creates an inbound connector of that name between plan and apply (no re-check).
  h.fake.seed(CONTOSO_ID, 'InboundConnector', { Name: 'sigops inbound', ConnectorType: 'Partner', Comment: 'hand made' });
  const report = await applyPlan(p, { config: configOf(root, [contoso()]), exchange: h.exchange, verify: false });
  const steps = report.tenants[0]!.steps.map((s) => `${s.outcome} ${s.change.kind}`);
  assert.deepEqual(steps, ['done OutboundConnector', 'failed InboundConnector', 'skipped TransportRule']);
  assert.equal(report.tenants[0]!.steps[1]!.error?.name, 'ObjectExistsError');
  assert.equal(report.converged, false);
});

test('the checksum is stable for the same config and live state', async () => {
  const a = await plan([contoso(), tenant('fabrikam', FABRIKAM_ID)]);
  const b = await plan([tenant('fabrikam', FABRIKAM_ID), contoso()]);
  assert.equal(a.checksum, b.checksum);
  assert.match(a.checksum, /^[0-9a-f]{64}$/);
  const c = await plan([contoso({ exchange: { internal: true } }), tenant('fabrikam', FABRIKAM_ID)]);
  assert.notEqual(a.checksum, c.checksum);
});

test('an object of ours renamed by hand is a conflict, not a second object', async () => {
  await converge([contoso()]);
  await h.fake.stop();
  h = await startHarness();
  // Marked rule under another name (e.g. renamed in the admin center) and no "sigops route".
  h.fake.seed(CONTOSO_ID, 'OutboundConnector', { Name: 'sigops outbound', ConnectorType: 'OnPremises', UseMXRecord: false, SmartHosts: ['relay.sigops.example.net'], Comment: 'managed-by: sigops; tenant: contoso' });
  h.fake.seed(CONTOSO_ID, 'TransportRule', { Name: 'sigops route (renamed)', Priority: 0, RouteMessageOutboundConnector: 'sigops outbound', Comments: 'managed-by: sigops; tenant: contoso' });
  const p = await plan([contoso()]);
  const t = p.tenants[0]!;
  assert.deepEqual(t.changes, []);
  assert.equal(t.conflicts.length, 1);
  assert.match(t.conflicts[0]!.message, /"sigops route \(renamed\)" carries the sigops marker/);
  assert.ok(hasErrors(p));
});

test('a group that Exchange echoes by its name (not the address) still converges', async () => {
  h.fake.addRecipient(CONTOSO_ID, {
    Name: 'Signature senders',
    Alias: 'signatures',
    DisplayName: 'Signature senders',
    PrimarySmtpAddress: 'signatures@contoso.com',
  });
  const grouped = contoso({ exchange: { senders: { kind: 'memberOf', group: 'signatures@contoso.com' } } });
  await converge([grouped]);
  assert.deepEqual(h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!.FromMemberOf, ['Signature senders']);
  const again = await plan([grouped]);
  assert.equal(hasChanges(again), false, JSON.stringify(again.tenants[0]!.changes));
  assert.ok(h.fake.calls.some((c) => c.cmdlet === 'Get-Recipient'));
  // Another group in the config is still a change, shown with the live name.
  const other = contoso({ exchange: { senders: { kind: 'memberOf', group: 'marketing@contoso.com' } } });
  const changed = await plan([other]);
  assert.deepEqual(changed.tenants[0]!.changes[0]!.fields, [{ field: 'FromMemberOf', old: ['Signature senders'], new: ['marketing@contoso.com'] }]);
});

test('a rule made by an earlier sigops (sender in the header, no automatic-mail exception) is updated in place', async () => {
  await converge([contoso()]);
  const client = new ExchangeConnector(h.exchange).client(CONTOSO_ID);
  await client.invoke('Set-TransportRule', { Identity: 'sigops route', SenderAddressLocation: 'Header', ExceptIfHeaderMatchesMessageHeader: null, ExceptIfHeaderMatchesPatterns: null });
  const p = await plan([contoso()]);
  const t = p.tenants[0]!;
  assert.deepEqual(t.changes.map((c) => `${c.action} ${c.kind} ${c.name}`), ['update TransportRule sigops route']);
  assert.deepEqual(t.changes[0]!.fields.map((f) => [f.field, f.old, f.new]), [
    ['SenderAddressLocation', 'Header', 'Envelope'],
    ['ExceptIfHeaderMatchesMessageHeader', null, 'Auto-Submitted'],
    ['ExceptIfHeaderMatchesPatterns', null, ['^auto-']],
  ]);
  await converge([contoso()]);
  assert.equal(h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!.SenderAddressLocation, 'Envelope');
  assert.ok(h.fake.writes(CONTOSO_ID).includes('Set-TransportRule sigops route'));
});

test('a certificate name the tenant has not accepted blocks its changes; a sender domain it has not accepted is a warning', async () => {
  // contoso.co.uk is not accepted in the fake's contoso: a warning, the changes still go ahead.
  const warned = contoso({ domains: ['contoso.com', 'contoso.co.uk'] });
  // A shared relay name: Exchange would not attribute the signed mail coming back to fabrikam.
  const shared = tenant('fabrikam', FABRIKAM_ID, { exchange: { certificateDomain: 'fabrikam.relay.sigops.example.net' } });
  const p = await plan([warned, shared]);
  const c = p.tenants.find((t) => t.slug === 'contoso')!;
  const f = p.tenants.find((t) => t.slug === 'fabrikam')!;
  assert.equal(c.changes.length, 3);
  assert.deepEqual(c.findings?.map((x) => [x.code, x.severity, x.domain]), [['domain-not-accepted', 'warning', 'contoso.co.uk']]);
  assert.deepEqual(f.changes, []);
  assert.deepEqual(f.findings?.map((x) => [x.code, x.severity, x.domain]), [['certificate-domain-not-accepted', 'error', 'fabrikam.relay.sigops.example.net']]);
  assert.ok(hasErrors(p));

  const text = renderPlan(p, 'text');
  assert.match(text, /contoso \(Contoso Ltd, [^)]*\)\n {2}warning: contoso\.co\.uk \(in domains of tenants\/contoso\.yaml\) is not an accepted domain/);
  assert.match(text, /fabrikam \(Fabrikam Ltd, [^)]*\)\n {2}error: certificateDomain fabrikam\.relay\.sigops\.example\.net is neither an accepted domain/);
  assert.match(text, /advice: Add relay\.sigops\.example\.net \(or fabrikam\.relay\.sigops\.example\.net\) as an accepted domain/);
  assert.match(text, /1 tenant could not be planned/);
  const md = renderPlan(p, 'markdown');
  assert.match(md, /\| `fabrikam` Fabrikam Ltd \| `[^`]+` \| ❌ certificate-domain-not-accepted \|/);
  assert.match(md, /\| `contoso` Contoso Ltd \| `[^`]+` \| 3 to create ⚠️ \|/);
  const json = JSON.parse(renderPlan(p, 'json')) as Plan;
  assert.equal(json.tenants.find((t) => t.slug === 'fabrikam')!.findings![0]!.advice.length > 0, true);

  const report = await applyPlan(p, { config: configOf(root, [warned, shared]), exchange: h.exchange });
  const blocked = report.tenants.find((t) => t.slug === 'fabrikam')!;
  assert.equal(blocked.outcome, 'failed');
  assert.equal(blocked.error?.code, 'certificate-domain-not-accepted');
  assert.deepEqual(h.fake.writes(FABRIKAM_ID), []);
  assert.equal(report.tenants.find((t) => t.slug === 'contoso')!.outcome, 'converged');
});

test('a host name directly under an accepted domain is the tenant\'s certificate name; two labels below is not', async () => {
  const direct = await plan([contoso({ exchange: { certificateDomain: 'relay.contoso.com' } })]);
  assert.equal(direct.tenants[0]!.findings, undefined);
  const deep = await plan([contoso({ exchange: { certificateDomain: 'a.relay.contoso.com' } })]);
  assert.equal(deep.tenants[0]!.findings?.[0]?.code, 'certificate-domain-not-accepted');
  h.fake.addAcceptedDomain(CONTOSO_ID, 'relay.contoso.com');
  const accepted = await plan([contoso({ exchange: { certificateDomain: 'a.relay.contoso.com' } })]);
  assert.equal(accepted.tenants[0]!.findings, undefined);
});
