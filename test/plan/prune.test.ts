// Offboarding: a tenant whose file was deleted is found in git history and removed only with --prune.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { applyPlan, findRemovedTenants, hasChanges, planTenants, renderPlan } from '../../src/plan/index.ts';
import { CONTOSO_ID, FABRIKAM_ID, configOf, startHarness, tenant, type Harness } from '../exchange/helpers.ts';

let h: Harness;
let repo: string;
let config: string;
before(async () => {
  h = await startHarness();
  repo = mkdtempSync(join(tmpdir(), 'sigops-prune-'));
  // The config lives in a sub-directory of the repository, as it may in real life.
  config = join(repo, 'config');
  mkdirSync(join(config, 'tenants'), { recursive: true });
  const git = simpleGit(repo);
  await git.init();
  await git.addConfig('user.email', 'test@example.com').addConfig('user.name', 'test').addConfig('commit.gpgsign', 'false');
  writeFileSync(join(config, 'tenants/contoso.yaml'), `id: ${CONTOSO_ID}\nname: Contoso Ltd\n`);
  writeFileSync(join(config, 'tenants/fabrikam.yaml'), `id: ${FABRIKAM_ID.toUpperCase()}\nname: Fabrikam, Inc.\n`);
  await git.add('.').commit('two tenants');
});
after(async () => {
  await h.fake.stop();
  rmSync(repo, { recursive: true, force: true });
});

const contoso = () => tenant('contoso', CONTOSO_ID);
const fabrikam = () => tenant('fabrikam', FABRIKAM_ID);

test('deleted tenant: nothing without --prune, ordered removal with it, lookalikes kept', async () => {
  // Both tenants are live first.
  const both = configOf(config, [contoso(), fabrikam()]);
  const p0 = await planTenants({ config: both, exchange: h.exchange });
  assert.equal((await applyPlan(p0, { config: both, exchange: h.exchange })).converged, true);
  h.fake.seed(FABRIKAM_ID, 'OutboundConnector', { Name: 'Fabrikam own', ConnectorType: 'Partner', UseMXRecord: true, Comment: '' });
  // A left-over object of ours under another name: offboarding removes it too.
  h.fake.seed(FABRIKAM_ID, 'InboundConnector', { Name: 'sigops inbound (2019)', ConnectorType: 'OnPremises', TlsSenderCertificateName: 'old.example.net', Comment: 'managed-by: sigops; tenant: fabrikam' });

  // fabrikam.yaml is deleted in a commit.
  unlinkSync(join(config, 'tenants/fabrikam.yaml'));
  await simpleGit(repo).add('.').commit('offboard fabrikam');
  const found = await findRemovedTenants(config, [contoso()]);
  assert.deepEqual(
    found.removed.map((r) => [r.slug, r.tenantId, r.name]),
    [['fabrikam', FABRIKAM_ID, 'Fabrikam, Inc.']],
  );

  const only = configOf(config, [contoso()]);
  const noPrune = await planTenants({ config: only, exchange: h.exchange });
  assert.equal(hasChanges(noPrune), false);
  assert.deepEqual(noPrune.pendingPrune.map((r) => r.slug), ['fabrikam']);
  assert.match(renderPlan(noPrune, 'text'), /deleted from the repo .*apply with --prune/);
  const writesBefore = h.fake.writes(FABRIKAM_ID).length;
  const r1 = await applyPlan(noPrune, { config: only, exchange: h.exchange });
  assert.equal(r1.converged, true);
  assert.equal(h.fake.writes(FABRIKAM_ID).length, writesBefore, 'nothing removed without --prune');
  assert.equal(h.fake.objects(FABRIKAM_ID, 'TransportRule').length, 1);

  const pruned = await planTenants({ config: only, exchange: h.exchange, prune: true });
  const f = pruned.tenants.find((t) => t.slug === 'fabrikam')!;
  assert.equal(f.status, 'removed');
  assert.deepEqual(
    f.changes.map((c) => `${c.action} ${c.kind}`),
    ['remove TransportRule', 'remove OutboundConnector', 'remove InboundConnector', 'remove InboundConnector'],
  );
  assert.ok(f.changes[0]!.fields.every((x) => x.new === null));
  const r2 = await applyPlan(pruned, { config: only, exchange: h.exchange });
  assert.equal(r2.converged, true, JSON.stringify(r2, null, 2));
  assert.deepEqual(h.fake.writes(FABRIKAM_ID).slice(writesBefore), [
    'Remove-TransportRule sigops route',
    'Remove-OutboundConnector sigops outbound',
    'Remove-InboundConnector sigops inbound',
    'Remove-InboundConnector sigops inbound (2019)',
  ]);
  assert.deepEqual(h.fake.objects(FABRIKAM_ID, 'OutboundConnector').map((o) => o.Name), ['Fabrikam own']);
  // Contoso is untouched and a second prune plan is empty.
  assert.equal(h.fake.objects(CONTOSO_ID, 'TransportRule').length, 1);
  assert.equal(hasChanges(await planTenants({ config: only, exchange: h.exchange, prune: true })), false);
});

test('a tenant file renamed (same id) is not offboarded; one that came back is not either', async () => {
  const git = simpleGit(repo);
  await git.mv('config/tenants/contoso.yaml', 'config/tenants/contoso-ltd.yaml');
  await git.commit('rename');
  const renamed = tenant('contoso-ltd', CONTOSO_ID);
  const r = await findRemovedTenants(config, [renamed]);
  assert.ok(!r.removed.some((x) => x.tenantId === CONTOSO_ID), JSON.stringify(r.removed));
  // fabrikam returns: it is present again, so not a removal.
  writeFileSync(join(config, 'tenants/fabrikam.yaml'), `id: ${FABRIKAM_ID}\nname: Fabrikam\n`);
  await git.add('.').commit('fabrikam is back');
  const back = await findRemovedTenants(config, [renamed, fabrikam()]);
  assert.deepEqual(back.removed, []);
});

test('--tenant narrows a prune plan to one removed tenant; an unknown slug is an error', async () => {
  unlinkSync(join(config, 'tenants/fabrikam.yaml'));
  await simpleGit(repo).add('.').commit('fabrikam gone again');
  const only = configOf(config, [tenant('contoso-ltd', CONTOSO_ID)]);
  const p = await planTenants({ config: only, exchange: h.exchange, prune: true, tenant: 'fabrikam' });
  assert.deepEqual(p.tenants.map((t) => [t.slug, t.status]), [['fabrikam', 'removed']]);
  await assert.rejects(planTenants({ config: only, exchange: h.exchange, tenant: 'nobody' }), /no tenant "nobody"/);
});

test('a deleted tenant that sigops cannot reach any more is a notice, not an error on every run', async () => {
  const gone = '9a9a9a9a-0000-4000-8000-000000000001'; // unknown to the fake: AADSTS90002
  writeFileSync(join(config, 'tenants/gone.yaml'), `id: ${gone}\nname: Gone Ltd\n`);
  await simpleGit(repo).add('.').commit('gone arrives');
  unlinkSync(join(config, 'tenants/gone.yaml'));
  await simpleGit(repo).add('.').commit('gone leaves');
  const only = configOf(config, [tenant('contoso-ltd', CONTOSO_ID)]);
  const p = await planTenants({ config: only, exchange: h.exchange, prune: true, tenant: 'gone' });
  assert.equal(p.tenants[0]!.error, undefined);
  assert.deepEqual(p.tenants[0]!.changes, []);
  assert.ok(p.notices.some((n) => /"gone" .* not reachable any more \(AADSTS90002\)/.test(n)), p.notices.join('\n'));
});
