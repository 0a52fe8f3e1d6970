// The bundled action end to end against the fake GitHub REST API and the fake Exchange Online
// (real HTTP, real msal sign-in): a pull request's plan comment is created, then updated and
// never duplicated; the merge applies the reviewed plan and converges; the nightly plan finds
// drift; a stale reviewed plan is refused; OIDC sign-in works from the action's inputs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github.ts';
import { FakeExchangeOnline, writeClientCertificate } from '../fakes/exchange-online.ts';
import { ExchangeConnector } from '../../src/exchange/index.ts';
import { PLAN_MARKER, checksumFromComment, checksumMarker } from '../../src/github/comment.ts';
import { createSandbox, pullRequestPayload, pushPayload, type ActionSandbox } from './harness.ts';

const CONTOSO = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';
const FABRIKAM = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const CLIENT_ID = '0d6b5f36-6bd5-4d0a-8f1b-5f0e2a9c0042';
const SECRET = 'action secret value';

describe('bundled action with Exchange Online', () => {
  let gh: FakeGitHub;
  let exo: FakeExchangeOnline;
  let box: ActionSandbox;
  let env: Record<string, string>;
  const inputs = { 'github-token': 'ghs_write', 'client-id': CLIENT_ID, 'client-secret': SECRET };

  before(async () => {
    gh = await startFakeGitHub({ tokens: { 'ghs_write': 'write', 'ghs_fork': 'read' } });
    exo = await new FakeExchangeOnline().start();
    exo.addTenant(CONTOSO).addTenant(FABRIKAM).registerApp({
      clientId: CLIENT_ID,
      secret: SECRET,
      federatedSubjects: ['repo:acme/signatures:ref:refs/heads/main'],
    });
    // The domains of example-config's tenants are accepted there (their certificate names sit under them).
    for (const d of ['contoso.com', 'contoso.co.uk']) exo.addAcceptedDomain(CONTOSO, d);
    exo.addAcceptedDomain(FABRIKAM, 'fabrikam.com');
    exo.githubSubject = 'repo:acme/signatures:ref:refs/heads/main';
    box = createSandbox();
    const ca = join(box.dir, 'login-ca.pem');
    writeFileSync(ca, exo.caCert);
    // The login endpoint is HTTPS with a throw-away certificate; Node trusts it through this.
    env = { SIGOPS_EXCHANGE_URL: exo.exchangeUrl, SIGOPS_LOGIN_URL: exo.loginUrl, NODE_EXTRA_CA_CERTS: ca };
  });
  after(async () => {
    await gh.close();
    await exo.stop();
    box.cleanup();
  });

  test('pull request: one plan comment, created then updated in place, with checksum and previews', async () => {
    gh.addPullRequest({ number: 21, files: [{ filename: 'config/templates/standard.html.hbs', status: 'modified' }] });
    gh.addComment(21, 'Please review the new signature.');
    const first = await box.run({ event: 'pull_request', payload: pullRequestPayload(21), apiUrl: gh.url, inputs, env });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(exo.writes().length, 0, 'planning changes nothing');
    let mine = gh.comments.get(21)!.filter((c) => c.body.startsWith(PLAN_MARKER));
    assert.equal(mine.length, 1);
    const body = mine[0]!.body;
    const checksum = checksumFromComment(body);
    assert.ok(checksum, 'the comment records the checksum for the apply on merge');
    assert.equal(first.outputs.checksum, checksum);
    assert.equal(first.outputs['has-changes'], 'true');
    assert.ok(body.includes('`contoso`') && body.includes('`fabrikam`'), 'per-tenant summary');
    assert.match(body, /<details>/);
    assert.match(body, /sigops outbound/);
    assert.match(body, /### Signature previews/);
    assert.match(body, /template `standard` changed/);
    assert.match(first.summary, /### Signature previews/);
    assert.ok(!first.summary.includes(PLAN_MARKER));

    // A new push changes the template: the same comment is edited, and shows the new text.
    appendFileSync(join(box.configDir, 'templates/standard.html.hbs'), '\n<p>Now with 100% more sigops</p>\n');
    const second = await box.run({ event: 'pull_request', payload: pullRequestPayload(21), apiUrl: gh.url, inputs, env });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    mine = gh.comments.get(21)!.filter((c) => c.body.startsWith(PLAN_MARKER));
    assert.equal(mine.length, 1, 'never a second plan comment');
    assert.match(mine[0]!.body, /Now with 100% more sigops/);
    assert.equal(gh.requests.filter((r) => r.method === 'POST').length, 1);
    assert.ok(gh.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/issues/comments/${mine[0]!.id}`)));
    assert.equal(checksumFromComment(mine[0]!.body), checksum, 'templates are not Exchange objects: same plan');
  });

  test('push to main: applies the plan reviewed in the merged pull request and converges', async () => {
    const merge = '1'.repeat(40);
    Object.assign(gh.pulls.get(21)!, { state: 'closed', merged_at: '2026-11-22T07:00:00Z', merge_commit_sha: merge });
    const r = await box.run({ event: 'push', payload: pushPayload(merge), apiUrl: gh.url, inputs, env, sha: merge });
    assert.equal(r.code, 0, r.stdout + r.stderr + r.summary);
    assert.match(r.summary, /Exchange matches the repository/);
    assert.match(r.summary, /checksum of the plan reviewed in pull request #21/);
    assert.ok(gh.requests.some((x) => x.path.startsWith(`/repos/acme/signatures/commits/${merge}/pulls`)));
    for (const id of [CONTOSO, FABRIKAM]) {
      assert.equal(exo.object(id, 'OutboundConnector', 'sigops outbound')?.SmartHosts !== undefined, true);
      assert.ok(exo.object(id, 'TransportRule', 'sigops route'), `rule created in ${id}`);
    }

    // Nothing left: the nightly plan is clean.
    const clean = await box.run({ event: 'schedule', payload: { schedule: '17 3 * * *' }, apiUrl: gh.url, inputs, env });
    assert.equal(clean.code, 0, clean.stdout + clean.summary);
    assert.match(clean.summary, /Exchange matches the repository/);
  });

  test('schedule: someone edits the connector in Exchange; the drift check fails with the difference', async () => {
    const admin = new ExchangeConnector({
      exchangeUrl: exo.exchangeUrl,
      loginUrl: exo.loginUrl,
      ca: exo.caCert,
      credentials: { kind: 'secret', clientId: CLIENT_ID, clientSecret: SECRET },
    });
    await admin.client(CONTOSO).invoke('Set-OutboundConnector', { Identity: 'sigops outbound', SmartHosts: ['rogue.example.org'] });
    const r = await box.run({ event: 'schedule', payload: {}, apiUrl: gh.url, inputs, env });
    assert.equal(r.code, 2, r.stdout + r.summary);
    assert.match(r.summary, /drift check: live Exchange differs from the repository in 1 tenant/);
    assert.match(r.summary, /rogue\.example\.org/);
    assert.ok(r.annotations.some((a) => a.startsWith('::error') && a.includes('contoso')));
    assert.equal(exo.object(CONTOSO, 'OutboundConnector', 'sigops outbound')?.SmartHosts?.toString().includes('rogue'), true, 'a plan never writes');
  });

  test('push: a reviewed plan that is no longer what apply would do is refused, nothing changes', async () => {
    const merge = '2'.repeat(40);
    gh.addPullRequest({ number: 22, state: 'closed', merged_at: '2026-11-22T07:30:00Z', merge_commit_sha: merge });
    // The plan reviewed then (before the drift above) had another checksum.
    gh.addComment(22, `${PLAN_MARKER}\n${checksumMarker('0'.repeat(64))}\nold plan`, 'github-actions[bot]');
    const writes = exo.writes().length;
    const r = await box.run({ event: 'push', payload: pushPayload(merge), apiUrl: gh.url, inputs, env, sha: merge });
    assert.equal(r.code, 1, r.stdout + r.summary);
    assert.match(r.summary, /apply refused/);
    assert.match(r.summary, /stale plan/);
    assert.match(r.summary, /reviewed in pull request #22/);
    assert.match(r.summary, /What applying would do now/);
    assert.match(r.summary, /rogue\.example\.org/);
    assert.equal(exo.writes().length, writes, 'nothing applied');
  });

  test('workflow_dispatch apply with OIDC sign-in puts the drifted connector back', async () => {
    const r = await box.run({
      event: 'workflow_dispatch',
      payload: { inputs: {} },
      apiUrl: gh.url,
      inputs: { 'github-token': 'ghs_write', 'client-id': CLIENT_ID, 'use-oidc': 'true', command: 'apply' },
      env: { ...env, ACTIONS_ID_TOKEN_REQUEST_URL: exo.githubOidcUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: exo.githubRequestToken },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr + r.summary);
    assert.match(r.summary, /Exchange matches the repository/);
    assert.ok(exo.tokenRequests.some((t) => t.ok && t.grantType === 'client_credentials' && t.clientId === CLIENT_ID));
    assert.deepEqual(exo.object(CONTOSO, 'OutboundConnector', 'sigops outbound')?.SmartHosts, ['relay.sigops.example.net']);
  });

  test('a config invalid on main is not applied', async () => {
    const file = join(box.configDir, 'tenants/fabrikam.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('senders: all', 'senders: everybody'));
    try {
      const writes = exo.writes().length;
      const merge = '3'.repeat(40);
      const r = await box.run({ event: 'push', payload: pushPayload(merge), apiUrl: gh.url, inputs, env, sha: merge });
      assert.equal(r.code, 1);
      assert.ok(r.annotations.some((a) => a.startsWith('::error file=config/tenants/fabrikam.yaml,')), r.stdout);
      assert.match(r.summary, /the configuration is invalid/);
      assert.equal(exo.writes().length, writes);
    } finally {
      writeFileSync(file, good);
    }
  });

  test('client-certificate given as PEM content signs in with the certificate', async () => {
    const certApp = '0d6b5f36-6bd5-4d0a-8f1b-5f0e2a9c0043';
    const { path, cert } = writeClientCertificate(box.dir);
    exo.registerApp({ clientId: certApp, certificates: [cert] });
    const pem = readFileSync(path, 'utf8');
    const r = await box.run({
      event: 'schedule',
      payload: {},
      apiUrl: gh.url,
      inputs: { 'github-token': 'ghs_write', 'client-id': certApp, 'client-certificate': pem },
      env,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr + r.summary);
    assert.ok(exo.tokenRequests.some((t) => t.ok && t.clientId === certApp));
    assert.ok(!r.stdout.includes('PRIVATE KEY'), 'the key is never printed');
  });

  test('push without access to the pull request: applies what main says, with a warning', async () => {
    const merge = '4'.repeat(40);
    gh.failNext('GET', new RegExp(`/commits/${merge}/pulls$`), 403, {
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit',
    });
    const r = await box.run({ event: 'push', payload: pushPayload(merge), apiUrl: gh.url, inputs, env, sha: merge });
    assert.equal(r.code, 0, r.stdout + r.summary);
    const warning = r.annotations.find((a) => a.includes('reviewed plan not found'));
    assert.ok(warning?.startsWith('::warning'), r.stdout);
    assert.match(warning ?? '', /403 Resource not accessible by integration/);
    assert.match(warning ?? '', /pull-requests: read/);
    assert.match(r.summary, /applied without a reviewed checksum/);
  });

  test('pull request: a tenant that cannot be planned fails the check and leaves no checksum to apply', async () => {
    gh.addPullRequest({ number: 23 });
    exo.setExchangeRole(FABRIKAM, false);
    try {
      const r = await box.run({ event: 'pull_request', payload: pullRequestPayload(23), apiUrl: gh.url, inputs, env });
      assert.equal(r.code, 1, r.stdout + r.summary);
      const body = gh.comments.get(23)![0]!.body;
      assert.equal(checksumFromComment(body), undefined);
      assert.match(body, /could not be planned/);
      assert.ok(r.annotations.some((a) => a.startsWith('::error') && a.includes('tenant fabrikam not planned')), r.stdout);
    } finally {
      exo.setExchangeRole(FABRIKAM, true);
    }
  });

  test('changing existing objects in several tenants needs the force input', async () => {
    const files = ['tenants/contoso.yaml', 'tenants/fabrikam.yaml'].map((f) => join(box.configDir, f));
    const originals = files.map((f) => readFileSync(f, 'utf8'));
    files.forEach((f, i) => writeFileSync(f, originals[i]!.replace('smartHost: relay.sigops.example.net', 'smartHost: relay2.sigops.example.net')));
    try {
      const merge = '5'.repeat(40);
      const writes = exo.writes().length;
      const refused = await box.run({ event: 'push', payload: pushPayload(merge), apiUrl: gh.url, inputs, env, sha: merge });
      assert.equal(refused.code, 1, refused.stdout + refused.summary);
      assert.match(refused.summary, /apply refused/);
      assert.match(refused.summary, /`force: true`/);
      assert.equal(exo.writes().length, writes);
      const forced = await box.run({
        event: 'push',
        payload: pushPayload(merge),
        apiUrl: gh.url,
        inputs: { ...inputs, force: 'true' },
        env,
        sha: merge,
      });
      assert.equal(forced.code, 0, forced.stdout + forced.summary);
      for (const id of [CONTOSO, FABRIKAM]) {
        assert.deepEqual(exo.object(id, 'OutboundConnector', 'sigops outbound')?.SmartHosts, ['relay2.sigops.example.net']);
      }
    } finally {
      files.forEach((f, i) => writeFileSync(f, originals[i]!));
    }
  });

  test('fork pull request with secrets but a read-only token: the plan goes to the job summary, with a warning', async () => {
    gh.addPullRequest({ number: 24 });
    const r = await box.run({
      event: 'pull_request',
      payload: pullRequestPayload(24, { fork: true }),
      apiUrl: gh.url,
      inputs: { ...inputs, 'github-token': 'ghs_fork' },
      env,
    });
    assert.equal(r.code, 0, r.stdout + r.summary);
    assert.equal(gh.comments.get(24)!.length, 0);
    assert.ok(r.annotations.some((a) => a.startsWith('::warning') && a.includes('403') && a.includes('fork')), r.stdout);
    assert.match(r.summary, /The plan comment could not be written: GitHub API: cannot create the plan comment on pull request #24: 403/);
    assert.match(r.summary, /### sigops plan/);
    assert.match(r.summary, /`contoso`/);
  });

  test('push: a tenant that fails during apply fails the job and is named in the summary', async () => {
    const merge = '6'.repeat(40);
    exo.setExchangeRole(FABRIKAM, false);
    try {
      const r = await box.run({ event: 'push', payload: pushPayload(merge), apiUrl: gh.url, inputs, env, sha: merge });
      assert.equal(r.code, 1, r.stdout + r.summary);
      assert.match(r.summary, /sigops apply failed in 1 tenant/);
      assert.match(r.summary, /`fabrikam`/);
      assert.ok(r.annotations.some((a) => a.startsWith('::error') && a.includes('apply failed for fabrikam')), r.stdout);
    } finally {
      exo.setExchangeRole(FABRIKAM, true);
    }
  });
});
