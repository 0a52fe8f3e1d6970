// runDoctor as a whole, in process: every check per tenant in order, a shared smart host probed
// once, skipped checks saying how to run them, and the text and JSON renderings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECK_ORDER, DoctorOptionError, allFindings, parseConnectTo, renderDoctorReport, runDoctor, summaryLine } from '../../src/doctor/index.ts';
import { CONTOSO_ID, FABRIKAM_ID, configOf, startHarness, tenant, type Harness } from '../exchange/helpers.ts';
import { TestCa } from './pki.ts';
import { startSmtpServer, type TestSmtpServer } from './servers.ts';

const HOST = 'relay.sigops.example.net';
let h: Harness;
let ca: TestCa;
let smtp: TestSmtpServer;
let certs: string;

before(async () => {
  h = await startHarness();
  ca = TestCa.create();
  smtp = await startSmtpServer({ certificate: ca.issue(HOST) });
  certs = mkdtempSync(join(tmpdir(), 'sigops-doctor-certs-'));
  const c = ca.issue('relay.contoso.com');
  writeFileSync(join(certs, 'relay.contoso.com.crt'), c.cert);
  writeFileSync(join(certs, 'relay.contoso.com.key'), c.key);
  for (const d of ['contoso.com']) h.fake.addAcceptedDomain(CONTOSO_ID, d);
  h.fake.addAcceptedDomain(FABRIKAM_ID, 'fabrikam.com');
});
after(async () => {
  await smtp.close();
  await h.fake.stop();
  ca.remove();
  rmSync(certs, { recursive: true, force: true });
});

// fabrikam's certificate name is under no domain it has accepted (validation would refuse it too).
const config = () => configOf('/nowhere', [
  tenant('contoso', CONTOSO_ID),
  tenant('fabrikam', FABRIKAM_ID, { exchange: { certificateDomain: 'relay.fabrikam.net' } }),
]);
const options = () => ({
  config: config(),
  exchange: h.exchange,
  ca: ca.cert,
  connectTo: [parseConnectTo(`${HOST}:25:127.0.0.1:${smtp.port}`)!],
  clientCertDir: certs,
  ehloName: 'doctor.test',
});

test('every check for every tenant, in order; findings only where something is wrong', async () => {
  const before = smtp.connections;
  const report = await runDoctor(options());
  assert.equal(smtp.connections - before, 1, 'the smart host both tenants share is probed once');
  assert.deepEqual(report.tenants.map((t) => t.slug), ['contoso', 'fabrikam']);
  for (const t of report.tenants) assert.deepEqual(t.checks.map((c) => c.check), [...CHECK_ORDER]);
  const [contoso, fabrikam] = report.tenants;
  assert.deepEqual(contoso!.checks.map((c) => c.status), ['passed', 'passed', 'passed', 'skipped', 'passed', 'passed']);
  // fabrikam: its certificateDomain is not accepted, and it has no client certificate.
  assert.deepEqual(
    allFindings(report).map((f) => `${f.tenant}/${f.check}/${f.severity}/${f.code}`),
    ['fabrikam/accepted-domains/error/certificate-domain-not-accepted', 'fabrikam/client-certificate/error/client-certificate-missing'],
  );
  assert.equal(fabrikam!.checks.find((c) => c.check === 'smart-host-tls')!.status, 'passed');
});

test('text: grouped per tenant, each finding with its fix, a summary line; JSON: the same as data', async () => {
  const report = await runDoctor(options());
  const text = renderDoctorReport(report, 'text');
  assert.match(text, /^contoso \(Contoso Ltd, 7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10\)\n {2}ok {4}app permission {6}the app-only token carries/m);
  assert.match(text, /\n {2}skip {2}smart host DNS {6}not looked up: --connect-to sends the probe to 127\.0\.0\.1:\d+\n/);
  assert.match(text, /\n {2}ERROR client certificate {2}no client certificate for relay\.fabrikam\.net: neither .* exists.*\n {28}fix: Get a certificate for relay\.fabrikam\.net/);
  assert.match(text, /\nDoctor: 2 errors, 0 warnings in 1 of 2 tenants\.\n$/);

  const json = JSON.parse(renderDoctorReport(report, 'json')) as { version: number; errors: number; warnings: number; findings: { tenant: string; check: string; severity: string; message: string; advice: string }[]; tenants: unknown[] };
  assert.equal(json.version, 1);
  assert.equal(json.errors, 2);
  assert.equal(json.warnings, 0);
  assert.equal(json.tenants.length, 2);
  assert.deepEqual(Object.keys(json.findings[0]!).sort(), ['advice', 'check', 'code', 'message', 'severity', 'tenant']);
});

test('without --client-cert-dir the client certificate check is skipped, saying how to run it', async () => {
  const { clientCertDir: _, ...rest } = options();
  const report = await runDoctor({ ...rest, tenant: 'contoso' });
  const check = report.tenants[0]!.checks.find((c) => c.check === 'client-certificate')!;
  assert.equal(check.status, 'skipped');
  assert.match(check.summary, /--client-cert-dir DIR to check relay\.contoso\.com\.crt\/\.key/);
  assert.equal(summaryLine(report), 'Doctor: nothing to fix in 1 tenant.');
});

test('an unknown --tenant is an error before anything is checked', async () => {
  const calls = h.fake.calls.length;
  await assert.rejects(runDoctor({ ...options(), tenant: 'nobody' }), (err: unknown) => err instanceof DoctorOptionError && /no tenant "nobody"/.test(err.message));
  assert.equal(h.fake.calls.length, calls);
});
