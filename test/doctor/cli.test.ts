// `bin/sigops doctor` as a child process, configured through the environment like plan: the fake
// Exchange Online and Entra (SIGOPS_EXCHANGE_URL/SIGOPS_LOGIN_URL, NODE_EXTRA_CA_CERTS), a
// loopback SMTP server as the smart host (--connect-to, --ca), and a client certificate
// directory. Exit 0 when there is nothing to fix, 1 with the finding's text otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSigops, type CliRun } from '../cli.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, SECRET, startHarness, type Harness } from '../exchange/helpers.ts';
import { TestCa } from './pki.ts';
import { startSmtpServer, type TestSmtpServer } from './servers.ts';

const HOST = 'relay.sigops.example.net';
let h: Harness;
let ca: TestCa;
let good: TestSmtpServer;
let noTls: TestSmtpServer;
let dir: string;
let config: string;
let certs: string;

function writeClientCert(name: string, options: Parameters<TestCa['issue']>[1] = {}): void {
  const c = ca.issue(name, options);
  writeFileSync(join(certs, `${name}.crt`), c.cert);
  writeFileSync(join(certs, `${name}.key`), c.key);
}

before(async () => {
  h = await startHarness();
  ca = TestCa.create();
  good = await startSmtpServer({ certificate: ca.issue(HOST) });
  noTls = await startSmtpServer({ noStartTls: true });
  dir = mkdtempSync(join(tmpdir(), 'sigops-doctor-cli-'));
  config = join(dir, 'config');
  cpSync(resolve('example-config'), config, { recursive: true });
  writeFileSync(join(dir, 'fake-login-ca.pem'), h.fake.caCert);
  writeFileSync(join(dir, 'test-ca.pem'), ca.cert);
  certs = join(dir, 'client-certs');
  mkdirSync(certs);
  // contoso: everything in place. fabrikam: no Exchange role, no client certificate.
  for (const d of ['contoso.com', 'contoso.co.uk']) h.fake.addAcceptedDomain(CONTOSO_ID, d);
  writeClientCert('relay.contoso.com');
  h.fake.setExchangeRole(FABRIKAM_ID, false);
});
after(async () => {
  await Promise.all([good.close(), noTls.close(), h.fake.stop()]);
  ca.remove();
  rmSync(dir, { recursive: true, force: true });
});

function doctor(args: string[], env: Record<string, string> = {}, smtpPort = good.port): Promise<CliRun> {
  return runSigops(
    ['doctor', '--config', config, '--connect-to', `${HOST}:25:127.0.0.1:${smtpPort}`, '--ca', join(dir, 'test-ca.pem'), '--client-cert-dir', certs, ...args],
    {
      SIGOPS_EXCHANGE_URL: h.fake.exchangeUrl,
      SIGOPS_LOGIN_URL: h.fake.loginUrl,
      SIGOPS_CLIENT_ID: CLIENT_ID,
      SIGOPS_CLIENT_SECRET: SECRET,
      NODE_EXTRA_CA_CERTS: join(dir, 'fake-login-ca.pem'),
      ...env,
    },
  );
}

test('a tenant with everything in place: every check ok, exit 0, nothing written', async () => {
  const r = await doctor(['--tenant', 'contoso']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^contoso \(Contoso Ltd, 7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10\)$/m);
  for (const label of ['app permission', 'exchange role', 'accepted domains', 'smart host TLS', 'client certificate']) {
    assert.match(r.stdout, new RegExp(`^ {2}ok {4}${label} `, 'm'), label);
  }
  assert.match(r.stdout, /^ {2}skip {2}smart host DNS +not looked up: --connect-to/m);
  assert.match(r.stdout, /Doctor: nothing to fix in 1 tenant\./);
  assert.deepEqual(h.fake.writes(), []);
  assert.equal(good.mailFrom, 0);
});

test('a tenant without an Exchange role and without a client certificate: exit 1, each finding with its fix', async () => {
  const r = await doctor([]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}ERROR exchange role +Exchange Online answered 403 to Get-AcceptedDomain, Get-OutboundConnector, Get-InboundConnector, Get-TransportRule: the app has no Exchange role in this tenant$/m);
  assert.match(r.stdout, /fix: The app has no Exchange role: assign the Exchange Administrator role to the app's service principal in this tenant\./);
  assert.match(r.stdout, /^ {2}ERROR client certificate +no client certificate for relay\.fabrikam\.com: neither/m);
  assert.match(r.stdout, /Doctor: 2 errors, 0 warnings in 1 of 2 tenants\./);
  assert.deepEqual(h.fake.writes(), []);
});

test('a wrong secret: the AADSTS finding with its advice, exit 1', async () => {
  const r = await doctor(['--tenant', 'contoso'], { SIGOPS_CLIENT_SECRET: 'not-the-secret' });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /ERROR app permission +no token for Exchange Online in tenant 7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10: .*Invalid client secret/);
  assert.match(r.stdout, /fix: The client secret is wrong or expired/);
  assert.match(r.stdout, /skip {2}exchange role +needs a token/);
});

test('an app without the Exchange.ManageAsApp permission', async () => {
  h.fake.registerApp({ clientId: 'unconsented-app', secret: SECRET, exchangeRoles: [] });
  const r = await doctor(['--tenant', 'contoso'], { SIGOPS_CLIENT_ID: 'unconsented-app' });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /ERROR app permission +the token for tenant 7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10 carries no Exchange\.ManageAsApp application permission \(roles: none\)/);
  assert.match(r.stdout, /fix: In the app registration: API permissions/);
});

test('a smart host without STARTTLS', async () => {
  const r = await doctor(['--tenant', 'contoso'], {}, noTls.port);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /ERROR smart host TLS +relay\.sigops\.example\.net \(127\.0\.0\.1:\d+\): 127\.0\.0\.1:\d+ does not offer STARTTLS/);
  assert.match(r.stdout, /fix: Run the relay with a certificate \(--tls-cert\/--tls-key\)/);
});

test('warnings only: exit 1, or 0 with --warnings-ok; --format json for tools', async () => {
  writeClientCert('relay.contoso.com', { days: 12 });
  try {
    const r = await doctor(['--tenant', 'contoso']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /WARN {2}client certificate +the client certificate for relay\.contoso\.com expires in 1[12] days/);
    assert.match(r.stdout, /Doctor: 0 errors, 1 warning in 1 of 1 tenant\./);
    const ok = await doctor(['--tenant', 'contoso', '--warnings-ok']);
    assert.equal(ok.code, 0);
    const json = await doctor(['--tenant', 'contoso', '--format', 'json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { errors: number; warnings: number; findings: { tenant: string; check: string; severity: string; code: string }[] };
    assert.deepEqual(
      report.findings.map((f) => [f.tenant, f.check, f.severity, f.code]),
      [['contoso', 'client-certificate', 'warning', 'certificate-expiring']],
    );
  } finally {
    writeClientCert('relay.contoso.com');
  }
});

test('unusable options: exit 1 with what to do', async () => {
  const bad = await doctor(['--connect-to', 'nonsense']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /DoctorOptionError \[doctor-option\]: --connect-to nonsense is not HOST:PORT:ADDRESS:PORT/);
  const unknown = await doctor(['--tenant', 'nobody']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no tenant "nobody"/);
});
