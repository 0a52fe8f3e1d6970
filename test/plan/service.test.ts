// plan → apply against the fake playing the real service's harder behaviours: groups compared by
// identity (a proxy address in the config, the primary address or name echoed by Exchange),
// the outbound connector removed while the rule's removal replicates, a connector in test mode,
// warnings in the apply report, and a tenant in a sovereign cloud (GCC High).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tenant } from '../../src/model/index.ts';
import { ExchangeConnector, updateObject } from '../../src/exchange/index.ts';
import { applyPlan, hasChanges, planTenants, renderApplyReport, renderPlan, type Plan } from '../../src/plan/index.ts';
import { CONTOSO_ID, FABRIKAM_ID, configOf, startHarness, tenant, type Harness } from '../exchange/helpers.ts';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sigops-plan-service-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const SETTLE = { attempts: 5, delayMs: 10, maxDelayMs: 40 };

async function withHarness(fn: (h: Harness) => Promise<void>, options: Parameters<typeof startHarness>[0] = {}): Promise<void> {
  const h = await startHarness(options);
  try {
    await fn(h);
  } finally {
    await h.fake.stop();
  }
}

function plan(h: Harness, tenants: Tenant[], prune = false): Promise<Plan> {
  return planTenants({ config: configOf(root, tenants), exchange: h.exchange, prune });
}

test('a group given by a secondary proxy address converges while Exchange echoes its primary address (or its name)', async () => {
  for (const echo of ['PrimarySmtpAddress', 'Name'] as const) {
    await withHarness(async (h) => {
      h.fake.groupEcho = echo;
      h.fake.addRecipient(CONTOSO_ID, {
        Name: 'Signature senders',
        Alias: 'signatures',
        DisplayName: 'Signature senders',
        PrimarySmtpAddress: 'signatures@contoso.com',
        EmailAddresses: ['SMTP:signatures@contoso.com', 'smtp:sig@contoso.com'],
      });
      h.fake.addRecipient(CONTOSO_ID, { Name: 'Marketing', Alias: 'marketing', DisplayName: 'Marketing', PrimarySmtpAddress: 'marketing@contoso.com' });
      const grouped = tenant('contoso', CONTOSO_ID, { exchange: { senders: { kind: 'memberOf', group: 'sig@contoso.com' } } });
      const first = await plan(h, [grouped]);
      const report = await applyPlan(first, { config: configOf(root, [grouped]), exchange: h.exchange, settle: SETTLE });
      assert.equal(report.converged, true, `${echo}: ${JSON.stringify(report, null, 2)}`);
      const shown = echo === 'Name' ? 'Signature senders' : 'signatures@contoso.com';
      assert.deepEqual(h.fake.object(CONTOSO_ID, 'TransportRule', 'sigops route')!.FromMemberOf, [shown]);
      const again = await plan(h, [grouped]);
      assert.equal(hasChanges(again), false, `${echo}: ${JSON.stringify(again.tenants[0]!.changes)}`);
      // Another (existing) group is a change, shown as Exchange shows the live one.
      const other = tenant('contoso', CONTOSO_ID, { exchange: { senders: { kind: 'memberOf', group: 'marketing@contoso.com' } } });
      const changed = await plan(h, [other]);
      assert.deepEqual(changed.tenants[0]!.changes[0]!.fields, [{ field: 'FromMemberOf', old: [shown], new: ['marketing@contoso.com'] }]);
    });
  }
});

test('offboarding: the outbound connector is removed once the rule removal has replicated (retried with back-off, bounded)', async () => {
  await withHarness(async (h) => {
    const contoso = tenant('contoso', CONTOSO_ID);
    const config = configOf(root, [contoso]);
    assert.equal((await applyPlan(await plan(h, [contoso]), { config, exchange: h.exchange, settle: SETTLE })).converged, true);

    // The same removals as --prune plans, through apply's own steps.
    const remove = (p: Plan): Plan => ({
      ...p,
      tenants: p.tenants.map((t) => ({
        ...t,
        changes: [
          { action: 'remove' as const, kind: 'TransportRule' as const, name: 'sigops route', fields: [] },
          { action: 'remove' as const, kind: 'OutboundConnector' as const, name: 'sigops outbound', fields: [] },
        ],
      })),
    });
    h.fake.setReplicationLag(3);
    h.sleeps.length = 0;
    const from = h.fake.calls.length;
    const report = await applyPlan(remove(await plan(h, [contoso])), { config, exchange: h.exchange, settle: SETTLE, verify: false });
    const steps = report.tenants[0]!.steps;
    assert.deepEqual(steps.map((s) => s.outcome), ['done', 'done'], JSON.stringify(steps, null, 2));
    const refused = h.fake.calls.slice(from).filter((c) => c.cmdlet === 'Remove-OutboundConnector' && c.status === 400);
    assert.ok(refused.length >= 1, 'Exchange first said the connector was in use');
    assert.ok(h.sleeps.length >= refused.length, 'waited between the attempts');
    assert.equal(h.fake.object(CONTOSO_ID, 'OutboundConnector', 'sigops outbound'), undefined);

    // A rule that never goes away: the retries end and the step reports Exchange's refusal.
    h.fake.setReplicationLag(0);
    const again = tenant('contoso', CONTOSO_ID);
    assert.equal((await applyPlan(await plan(h, [again]), { config, exchange: h.exchange, settle: SETTLE })).converged, true);
    h.fake.setReplicationLag(1000);
    const stuck = await applyPlan(remove(await plan(h, [again])), { config, exchange: h.exchange, settle: SETTLE, verify: false });
    const failed = stuck.tenants[0]!.steps[1]!;
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.error?.name, 'ConnectorInUseError');
    assert.match(failed.error?.message ?? '', /is used by transport rule 'sigops route'/);
    assert.match(failed.error?.advice ?? '', /has not replicated yet/);
    assert.match(renderApplyReport(stuck), /request: client-request-id [0-9a-f-]{36}/);
  });
});

test('a sigops connector put in test mode is found, not created a second time', async () => {
  await withHarness(async (h) => {
    const contoso = tenant('contoso', CONTOSO_ID);
    assert.equal((await applyPlan(await plan(h, [contoso]), { config: configOf(root, [contoso]), exchange: h.exchange, settle: SETTLE })).converged, true);
    // An admin switches our connector to test mode (TestMode is not a parameter sigops manages).
    await updateObject(new ExchangeConnector(h.exchange).client(CONTOSO_ID), 'OutboundConnector', 'sigops outbound', { TestMode: true });
    assert.equal((await new ExchangeConnector(h.exchange).client(CONTOSO_ID).invoke('Get-OutboundConnector')).length, 0, 'hidden from a plain Get-');
    const p = await plan(h, [contoso]);
    assert.equal(hasChanges(p), false, JSON.stringify(p.tenants[0]!.changes));
  });
});

test('warnings Exchange writes while applying are in the apply report', async () => {
  await withHarness(async (h) => {
    const contoso = tenant('contoso', CONTOSO_ID);
    const p = await plan(h, [contoso]);
    // The first write (New-OutboundConnector) answers with a warning.
    h.fake.warnNext(['The smart host will be validated on first use.']);
    const report = await applyPlan(p, { config: configOf(root, [contoso]), exchange: h.exchange, settle: SETTLE, verify: false });
    assert.equal(report.converged, true);
    assert.deepEqual(report.tenants[0]!.steps[0]!.warnings, ['The smart host will be validated on first use.']);
    assert.match(renderApplyReport(report), /warning from Exchange: The smart host will be validated on first use\./);
  });
});

test('a GCC High tenant signs in at its cloud and gets tokens for outlook.office365.us; the plan says so', async () => {
  await withHarness(
    async (h) => {
      const gov = tenant('contoso', CONTOSO_ID, { cloud: 'gcc-high' });
      const config = configOf(root, [gov]);
      const p = await plan(h, [gov]);
      assert.equal(p.tenants[0]!.error, undefined, JSON.stringify(p.tenants[0]!.error));
      assert.equal(p.tenants[0]!.cloud, 'gcc-high');
      assert.match(renderPlan(p, 'text'), /contoso \(Contoso Ltd, [0-9a-f-]+, cloud gcc-high\)/);
      assert.equal((await applyPlan(p, { config, exchange: h.exchange, settle: SETTLE })).converged, true);
      assert.ok(h.fake.tokenRequests.every((r) => r.ok));

      // A tenant left at the default (worldwide) cloud asks this cloud's login for the wrong resource.
      const wrong = tenant('fabrikam', FABRIKAM_ID);
      const w = await plan(h, [wrong]);
      assert.equal(w.tenants[0]!.error?.code, 'AADSTS500011', JSON.stringify(w.tenants[0]!.error));
      assert.match(w.tenants[0]!.error?.message ?? '', /resource principal named https:\/\/outlook\.office365\.com was not found/);
    },
    { cloud: 'gcc-high' },
  );
});
