// The real CLI (./bin/sigops) as a child process against the fake, configured only through the
// environment, exactly like production: SIGOPS_EXCHANGE_URL / SIGOPS_LOGIN_URL / SIGOPS_CLIENT_*.
// The child trusts the fake's login certificate through NODE_EXTRA_CA_CERTS and so uses msal's
// own (fetch) network client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSigops, type CliRun } from '../cli.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, SECRET, startHarness, type Harness } from '../exchange/helpers.ts';
import { writeClientCertificate } from '../fakes/exchange-online.ts';

let h: Harness;
let dir: string;
let config: string;
let caFile: string;

before(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'sigops-cli-'));
  config = join(dir, 'config');
  cpSync(resolve('example-config'), config, { recursive: true });
  caFile = join(dir, 'fake-ca.pem');
  writeFileSync(caFile, h.fake.caCert);
});
after(async () => {
  await h.fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

function sigops(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runSigops(args, {
    SIGOPS_EXCHANGE_URL: h.fake.exchangeUrl,
    SIGOPS_LOGIN_URL: h.fake.loginUrl,
    SIGOPS_CLIENT_ID: CLIENT_ID,
    SIGOPS_CLIENT_SECRET: SECRET,
    NODE_EXTRA_CA_CERTS: caFile,
    ...env,
  });
}

test('bad credentials: clear error naming the AADSTS code and advice, exit 1', async () => {
  const r = await sigops(['plan', '--config', config], { SIGOPS_CLIENT_SECRET: 'not-the-secret' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /AuthenticationError \[AADSTS7000215\]/);
  assert.match(r.stderr, /advice: The client secret is wrong or expired/);
  assert.deepEqual(h.fake.writes(), []);
});

test('no credentials at all: exit 1 before contacting anything', async () => {
  const before = h.fake.tokenRequests.length;
  const r = await sigops(['plan', '--config', config], { SIGOPS_CLIENT_SECRET: '' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /CredentialsError.*no credential/);
  assert.equal(h.fake.tokenRequests.length, before);
});

test('plan → apply → plan on example-config through the CLI', async () => {
  const plan = await sigops(['plan', '--config', config, '--detailed-exitcode']);
  assert.equal(plan.code, 2, plan.stderr);
  assert.match(plan.stdout, /Plan: 6 to create, 0 to update, 0 to remove in 2 of 2 tenants\./);
  // contoso signs only a group's members; fabrikam signs internal mail too.
  assert.match(plan.stdout, /FromMemberOf\s+\["signatures@contoso.com"\]/);
  const checksum = /Checksum: ([0-9a-f]{64})/.exec(plan.stdout)?.[1];
  assert.ok(checksum);

  const md = await sigops(['plan', '--config', config, '--format', 'markdown', '--tenant', 'fabrikam']);
  assert.equal(md.code, 0);
  assert.match(md.stdout, /<details><summary><code>fabrikam<\/code>/);

  const stale = await sigops(['apply', '--config', config, '--checksum', '0'.repeat(64)]);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /StalePlanError.*stale plan/);
  assert.deepEqual(h.fake.writes(), []);

  const apply = await sigops(['apply', '--config', config, '--checksum', checksum]);
  assert.equal(apply.code, 0, apply.stderr + apply.stdout);
  assert.match(apply.stdout, /contoso \(7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10\): converged/);
  assert.match(apply.stdout, /Converged/);
  assert.equal(h.fake.writes(CONTOSO_ID).length, 3);
  assert.equal(h.fake.object(FABRIKAM_ID, 'TransportRule', 'sigops route')!.SentToScope, undefined);

  const after = await sigops(['plan', '--config', config, '--detailed-exitcode', '--format', 'json']);
  assert.equal(after.code, 0, after.stderr);
  const json = JSON.parse(after.stdout) as { tenants: { changes: unknown[] }[]; checksum: string };
  assert.ok(json.tenants.every((t) => t.changes.length === 0));
  assert.match(json.checksum, /^[0-9a-f]{64}$/);
});

test('an unknown --tenant is an error, exit 1', async () => {
  const r = await sigops(['plan', '--config', config, '--tenant', 'nobody']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no tenant "nobody"/);
});

test('sigops login: device code message, then a check of the tenant with the signed-in token', async () => {
  const r = await sigops(['login', '--config', config, '--tenant', 'contoso'], { SIGOPS_CLIENT_SECRET: '' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /enter the code [0-9A-F]+ to authenticate/);
  assert.match(r.stdout, /Signed in as admin@/);
  assert.match(r.stdout, /TransportRule .*"sigops route": /);
});

test('client certificate from SIGOPS_CLIENT_CERTIFICATE works through the CLI', async () => {
  const { path, cert } = writeClientCertificate(dir);
  h.fake.registerApp({ clientId: 'cli-cert-app', certificates: [cert] });
  const r = await sigops(['plan', '--config', config, '--tenant', 'contoso'], {
    SIGOPS_CLIENT_ID: 'cli-cert-app',
    SIGOPS_CLIENT_SECRET: '',
    SIGOPS_CLIENT_CERTIFICATE: path,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Checksum: [0-9a-f]{64}/);
  assert.ok(h.fake.tokenRequests.some((t) => t.clientId === 'cli-cert-app' && t.ok));
});

test('an invalid config is reported with file:line:col and exit 1, before any sign-in', async () => {
  const broken = join(dir, 'broken');
  cpSync(resolve('example-config'), broken, { recursive: true });
  writeFileSync(join(broken, 'tenants/contoso.yaml'), 'id: not-a-guid\nname: Contoso\n');
  const before = h.fake.tokenRequests.length;
  const r = await sigops(['plan', '--config', broken]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tenants\/contoso\.yaml:\d+:\d+/);
  assert.equal(h.fake.tokenRequests.length, before);
});

test('a refused cmdlet is reported with its advice and the request ids to quote, never as a TypeError', async () => {
  h.fake.setExchangeRole(CONTOSO_ID, false); // 403 with an undecodable body, as Exchange sends it
  try {
    const r = await sigops(['plan', '--config', config, '--tenant', 'contoso']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /sigops plan \(tenant contoso\): ForbiddenError \[403\]: Get-OutboundConnector: HTTP 403 Forbidden, with the body could not be decoded .*\n  advice: The app may not run Get-OutboundConnector in this tenant: assign the Exchange Administrator role.*\n  request: client-request-id [0-9a-f-]{36}; request-id [0-9a-f-]{36} \(quote it to Microsoft support\)/,
    );
    assert.doesNotMatch(r.stderr, /TypeError/);
    assert.match(r.stdout, /request: client-request-id [0-9a-f-]{36}/);
  } finally {
    h.fake.setExchangeRole(CONTOSO_ID, true);
  }
});
