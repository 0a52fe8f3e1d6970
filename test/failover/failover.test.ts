// `sigops failover` end to end against the Exchange Online fake and relay /healthz endpoints on
// loopback: the fleet goes down → the rule is noted, then disabled in the fake; `plan` shows the
// hold and `apply` keeps the rule disabled (also while it updates the rule); the fleet comes back
// → the rule is re-enabled after the recovery wait. A paused tenant is never touched; a rule
// sigops does not manage is refused; a throttled Exchange is retried by the client. The CLI:
// cli.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyFailover, failoverFailed, planFailover, probeFleet, renderFailoverPlan, renderFailoverReport, type FailoverSettings } from '../../src/failover/index.ts';
import { applyPlan, planTenants, renderPlan } from '../../src/plan/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import type { Tenant } from '../../src/model/index.ts';
import { CONTOSO_ID, FABRIKAM_ID, configOf, startHarness, tenant, type Harness } from '../exchange/helpers.ts';
import { startHealthz, type Healthz } from './healthz.ts';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const at = (minutes: number) => (): Date => new Date(T0 + minutes * 60_000);
const SETTINGS: FailoverSettings = { afterMs: 10 * 60_000, recoverAfterMs: 5 * 60_000 };
const RULE = 'sigops route';

describe('failover against the Exchange fake and relay health endpoints', { concurrency: 1 }, () => {
  let h: Harness;
  let root: string;
  let relays: Healthz[];
  const contoso = (o: Parameters<typeof tenant>[2] = {}): Tenant => tenant('contoso', CONTOSO_ID, o);
  const fabrikam = tenant('fabrikam', FABRIKAM_ID, { enabled: false }); // paused
  let config = configOf('', [contoso(), fabrikam]);

  before(async () => {
    h = await startHarness();
    root = mkdtempSync(join(tmpdir(), 'sigops-failover-'));
    config = configOf(root, [contoso(), fabrikam]);
    relays = [await startHealthz(), await startHealthz()];
    const report = await applyPlan(await planTenants({ config, exchange: h.exchange }), { config, exchange: h.exchange });
    assert.ok(report.converged);
  });
  after(async () => {
    await h.fake.stop();
    for (const r of relays) await r.down().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  const urls = (): string[] => relays.map((r) => r.url);
  const rule = (id = CONTOSO_ID) => h.fake.object(id, 'TransportRule', RULE)!;
  async function failover(now: () => Date, settings = SETTINGS) {
    const fleet = await probeFleet(urls(), { now, timeoutMs: 2_000 });
    const plan = await planFailover({ config, fleet, settings, exchange: h.exchange });
    return { plan, report: await applyFailover(plan, { exchange: h.exchange, logger: silentLogger() }) };
  }
  const outcome = (r: Awaited<ReturnType<typeof failover>>, slug = 'contoso') => r.report.tenants.find((t) => t.slug === slug)!.outcome;

  it('the fleet goes down: noted, then disabled after --after; plan shows the hold and apply keeps it', async () => {
    const fabrikamWrites = h.fake.writes(FABRIKAM_ID).length;
    assert.equal(outcome(await failover(at(0))), 'unchanged', 'healthy: nothing to do');

    await relays[0]!.down();
    assert.equal(outcome(await failover(at(1))), 'unchanged', 'one relay answering is enough');

    await relays[1]!.down();
    const first = await failover(at(2));
    assert.equal(outcome(first), 'noted');
    assert.equal(rule().State, 'Enabled');
    assert.match(String(rule().Comments), /^managed-by: sigops; tenant: contoso; failover: unhealthy; since: 2026-11-30T10:02:00\.000Z; reason: no relay healthy: /);
    // the note alone is no drift
    const noted = await planTenants({ config, exchange: h.exchange });
    assert.deepEqual(noted.tenants.find((t) => t.slug === 'contoso')!.changes, []);
    assert.equal(noted.tenants.find((t) => t.slug === 'contoso')!.failover?.state, 'unhealthy');

    assert.equal(outcome(await failover(at(11))), 'unchanged', 'under 10 minutes');
    const before = h.fake.writes(CONTOSO_ID).length;
    const switched = await failover(at(12));
    assert.equal(outcome(switched), 'disabled');
    assert.deepEqual(h.fake.writes(CONTOSO_ID).slice(before), [`Set-TransportRule ${RULE}`, `Disable-TransportRule ${RULE}`]);
    assert.equal(rule().State, 'Disabled');
    assert.match(renderFailoverReport(switched.report), /contoso: SWITCHED: relay fleet unhealthy since 2026-11-30T10:02:00\.000Z/);

    // plan (and the drift report, which renders it) shows the hold and plans nothing
    const plan = await planTenants({ config, exchange: h.exchange });
    const t = plan.tenants.find((x) => x.slug === 'contoso')!;
    assert.deepEqual(t.changes, []);
    assert.equal(t.failover?.state, 'disabled');
    assert.match(renderPlan(plan, 'text'), /failover: rule disabled by failover since 2026-11-30T10:12:00\.000Z \(relay fleet unhealthy since 2026-11-30T10:02:00\.000Z/);
    assert.match(renderPlan(plan, 'markdown'), /rule held disabled by failover/);
    const applied = await applyPlan(plan, { config, exchange: h.exchange });
    assert.ok(applied.converged);
    assert.equal(rule().State, 'Disabled', 'apply keeps it disabled');

    // a config change that updates the rule keeps the hold and the note
    config = configOf(root, [contoso({ domains: ['contoso.com', 'contoso.org'] }), fabrikam]);
    const changed = await planTenants({ config, exchange: h.exchange });
    const changes = changed.tenants.find((x) => x.slug === 'contoso')!.changes;
    assert.deepEqual(changes.map((c) => `${c.action} ${c.kind}`), ['update TransportRule']);
    assert.ok(!changes[0]!.fields.some((f) => f.field === 'Comments'), 'the note is not drift');
    assert.ok((await applyPlan(changed, { config, exchange: h.exchange })).converged);
    assert.equal(rule().State, 'Disabled');
    assert.match(String(rule().Comments), /; failover: disabled; since: 2026-11-30T10:12:00\.000Z; /);

    assert.equal(outcome(await failover(at(30))), 'unchanged', 'still down: held');
    assert.equal(h.fake.writes(FABRIKAM_ID).length, fabrikamWrites, 'the paused tenant was never touched');
  });

  it('the fleet comes back: re-enabled only after --recover-after; the switch stays visible in plan', async () => {
    await relays[1]!.up();
    const back = await failover(at(40));
    assert.equal(outcome(back), 'noted');
    assert.equal(rule().State, 'Disabled');
    assert.match(renderFailoverPlan(back.plan), /relay fleet healthy at 2026-11-30T10:40:00\.000Z/);
    assert.equal(outcome(await failover(at(43))), 'unchanged');

    // Exchange throttles: the client retries (Retry-After), the switch still happens
    const sleeps = h.sleeps.length;
    h.fake.throttleNext(2);
    const enabled = await failover(at(45));
    assert.equal(outcome(enabled), 'enabled');
    assert.ok(h.sleeps.length > sleeps, 'the throttled calls were retried');
    assert.equal(rule().State, 'Enabled');
    assert.match(String(rule().Comments), /; failover: re-enabled; at: 2026-11-30T10:45:00\.000Z; disabled-since: 2026-11-30T10:12:00\.000Z$/);

    const plan = await planTenants({ config, exchange: h.exchange });
    assert.deepEqual(plan.tenants.find((x) => x.slug === 'contoso')!.changes, []);
    assert.match(renderPlan(plan, 'text'), /failover: failover re-enabled the rule at 2026-11-30T10:45:00\.000Z \(it was disabled since 2026-11-30T10:12:00\.000Z\)/);
    assert.equal(rule(FABRIKAM_ID).State, 'Disabled', 'the paused tenant stays disabled');
  });

  it('a rule named like ours without the sigops marker is refused and not written', async () => {
    const other = await startHarness();
    try {
      other.fake.seed(CONTOSO_ID, 'TransportRule', { Name: RULE, Comments: 'made by hand', State: 'Enabled' });
      const fleet = await probeFleet(['http://127.0.0.1:1/healthz'], { timeoutMs: 1_000 });
      assert.equal(fleet.healthy, false);
      const plan = await planFailover({ config: configOf(root, [contoso()]), fleet, settings: { afterMs: 0, recoverAfterMs: 0 }, exchange: other.exchange });
      assert.equal(plan.tenants[0]!.error?.code, 'failover-rule-not-managed');
      const report = await applyFailover(plan, { exchange: other.exchange, logger: silentLogger() });
      assert.ok(failoverFailed(report));
      assert.deepEqual(other.fake.writes(), []);
    } finally {
      await other.fake.stop();
    }
  });
});
