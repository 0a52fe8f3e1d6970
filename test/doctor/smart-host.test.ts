// The smart host checks against real loopback SMTP servers: the probe's dialogue (greeting,
// EHLO, STARTTLS, handshake with SNI, EHLO again, QUIT, never a message), and what each broken
// set-up is reported as. DNS answers come from an injected resolver (names here do not resolve).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { checkSmartHost, parseConnectTo, probeProblems, probeSmtp, type HostResolver, type Problem } from '../../src/doctor/index.ts';
import { TestCa, selfSigned } from './pki.ts';
import { closedPort, startSilentServer, startSmtpServer, type TestSmtpServer } from './servers.ts';

const HOST = 'relay.sigops.example.net';
let ca: TestCa;
const servers: { close(): Promise<void> }[] = [];

before(() => {
  ca = TestCa.create();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  ca.remove();
});

async function server(options: Parameters<typeof startSmtpServer>[0]): Promise<TestSmtpServer> {
  const s = await startSmtpServer(options);
  servers.push(s);
  return s;
}

async function problemsAt(port: number, options: { ca?: string; timeoutMs?: number } = {}): Promise<Problem[]> {
  const result = await probeSmtp({ host: HOST, address: '127.0.0.1', port }, { ca: options.ca ?? ca.cert, timeoutMs: options.timeoutMs ?? 5000, ehloName: 'doctor.test' });
  return probeProblems(result, new Date());
}

const codes = (problems: readonly Problem[]): string[] => problems.map((p) => `${p.severity}:${p.code}`);

test('a relay with a valid certificate for the smart host: the whole dialogue, no finding, no mail', async () => {
  const s = await server({ certificate: ca.issue(HOST) });
  const result = await probeSmtp({ host: HOST, address: '127.0.0.1', port: s.port }, { ca: ca.cert, ehloName: 'doctor.test' });
  assert.equal(result.failure, undefined, result.failure?.detail);
  assert.match(result.greeting ?? '', /^220 /);
  assert.equal(result.startTlsOffered, true);
  assert.equal(result.tls?.authorized, true);
  assert.equal(result.tls?.nameError, undefined);
  assert.match(result.tls?.protocol ?? '', /^TLSv1\.[23]$/);
  assert.deepEqual(probeProblems(result, new Date()), []);
  assert.equal(s.mailFrom, 0, 'the probe never starts a message');
});

test('the public roots alone do not trust a private CA: untrusted, with what to fix', async () => {
  const s = await server({ certificate: ca.issue(HOST) });
  const result = await probeSmtp({ host: HOST, address: '127.0.0.1', port: s.port }, {});
  const problems = probeProblems(result, new Date());
  assert.deepEqual(codes(problems), ['error:certificate-untrusted']);
  assert.match(problems[0]!.message, /is not a trusted CA/);
  assert.match(problems[0]!.advice, /public CA/);
});

test('an expired certificate is one finding (not also "untrusted"), with its date', async () => {
  const s = await server({ certificate: ca.issue(HOST, { from: new Date('2020-01-01'), until: new Date('2020-02-01') }) });
  const problems = await problemsAt(s.port);
  assert.deepEqual(codes(problems), ['error:certificate-expired']);
  assert.match(problems[0]!.message, /relay\.sigops\.example\.net \(127\.0\.0\.1:\d+\) expired on 2020-02-01/);
  assert.match(problems[0]!.advice, /Renew/);
});

test('a certificate expiring within 30 days is a warning', async () => {
  const s = await server({ certificate: ca.issue(HOST, { days: 10 }) });
  const problems = await problemsAt(s.port);
  assert.deepEqual(codes(problems), ['warning:certificate-expiring']);
  assert.match(problems[0]!.message, /expires in (9|10) days/);
});

test('a certificate for another name: name mismatch naming both', async () => {
  const s = await server({ certificate: ca.issue('mail.other.example', { names: ['mail.other.example'] }) });
  const problems = await problemsAt(s.port);
  assert.deepEqual(codes(problems), ['error:certificate-name-mismatch']);
  assert.match(problems[0]!.message, /presents a certificate for mail\.other\.example, not relay\.sigops\.example\.net/);
});

test('a self-signed certificate is untrusted', async () => {
  const s = await server({ certificate: selfSigned([HOST]) });
  const problems = await problemsAt(s.port);
  assert.deepEqual(codes(problems), ['error:certificate-untrusted']);
  assert.match(problems[0]!.message, /self-signed/);
});

test('a server without STARTTLS', async () => {
  const s = await server({ noStartTls: true });
  const problems = await problemsAt(s.port);
  assert.deepEqual(codes(problems), ['error:smtp-no-starttls']);
  assert.match(problems[0]!.message, /does not offer STARTTLS/);
  assert.match(problems[0]!.advice, /--tls-cert/);
});

test('a server that only speaks TLS below 1.2', async () => {
  const s = await server({ certificate: ca.issue(HOST), tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' } });
  const problems = await problemsAt(s.port);
  assert.deepEqual(codes(problems), ['error:tls-version']);
  assert.match(problems[0]!.message, /TLS handshake failed/);
  assert.match(problems[0]!.advice, /TLS 1\.2 or newer/);
});

test('connection refused, no greeting (timeout), and a refused session are each said precisely', async () => {
  const refused = await problemsAt(await closedPort());
  assert.deepEqual(codes(refused), ['error:smtp-connection-refused']);
  assert.match(refused[0]!.message, /connection refused by 127\.0\.0\.1:\d+/);

  const silent = await startSilentServer();
  servers.push(silent);
  const quiet = await problemsAt(silent.port, { timeoutMs: 300 });
  assert.deepEqual(codes(quiet), ['error:smtp-no-greeting']);
  assert.match(quiet[0]!.message, /no SMTP greeting within 0\.3 s/);

  const s = await server({ refuse: true });
  const denied = await problemsAt(s.port);
  assert.deepEqual(codes(denied), ['error:smtp-refused']);
  assert.match(denied[0]!.message, /refused the session: 554/);
  assert.match(denied[0]!.advice, /--allow/);
});

function resolver(answers: { v4?: string[] | string; v6?: string[] | string }): HostResolver {
  const answer = (a: string[] | string | undefined): Promise<string[]> =>
    typeof a === 'string' ? Promise.reject(Object.assign(new Error(a), { code: a })) : a ? Promise.resolve(a) : Promise.reject(Object.assign(new Error('ENODATA'), { code: 'ENODATA' }));
  return { resolve4: () => answer(answers.v4), resolve6: () => answer(answers.v6) };
}

test('DNS: NXDOMAIN, no address, a failing server; the TLS check is then skipped', async () => {
  const nx = await checkSmartHost(HOST, { resolver: resolver({ v4: 'ENOTFOUND', v6: 'ENOTFOUND' }) });
  assert.deepEqual(codes(nx.dns.problems), ['error:dns-nxdomain']);
  assert.match(nx.dns.problems[0]!.message, /does not exist in DNS \(NXDOMAIN\)/);
  assert.equal(nx.tls.skipped, true);

  const none = await checkSmartHost(HOST, { resolver: resolver({}) });
  assert.deepEqual(codes(none.dns.problems), ['error:dns-no-address']);

  const broken = await checkSmartHost(HOST, { resolver: resolver({ v4: 'ESERVFAIL', v6: 'ETIMEOUT' }) });
  assert.deepEqual(codes(broken.dns.problems), ['error:dns-failure']);
  assert.match(broken.dns.problems[0]!.message, /ESERVFAIL, ETIMEOUT/);
});

test('DNS: every address the name resolves to is probed', async () => {
  const s = await server({ certificate: ca.issue(HOST) });
  const dead = await closedPort();
  const good = await checkSmartHost(HOST, { resolver: resolver({ v4: ['127.0.0.1'] }), port: s.port, ca: ca.cert });
  assert.deepEqual(good.dns.problems, []);
  assert.match(good.dns.summary, /resolves to 127\.0\.0\.1/);
  assert.deepEqual(good.tls.problems, []);
  assert.match(good.tls.summary, /STARTTLS, TLSv1\.\d, certificate for relay\.sigops\.example\.net/);

  // Two addresses, the second (::1 on a port where nothing listens) is reported on its own.
  const both = await checkSmartHost(HOST, { resolver: resolver({ v4: ['127.0.0.1'], v6: ['::1'] }), port: dead, ca: ca.cert, timeoutMs: 2000 });
  assert.equal(both.tls.problems.length, 2);
  assert.ok(both.tls.problems.every((p) => p.severity === 'error'));
});

test('--connect-to: probes the given address instead of looking the name up', async () => {
  const s = await server({ certificate: ca.issue(HOST) });
  const lookups: string[] = [];
  const r: HostResolver = { resolve4: async (h) => (lookups.push(h), []), resolve6: async (h) => (lookups.push(h), []) };
  const outcome = await checkSmartHost(HOST, { resolver: r, ca: ca.cert, connectTo: [parseConnectTo(`${HOST}:25:127.0.0.1:${s.port}`)!] });
  assert.deepEqual(lookups, []);
  assert.equal(outcome.dns.skipped, true);
  assert.match(outcome.dns.summary, /--connect-to sends the probe to 127\.0\.0\.1:\d+/);
  assert.deepEqual(outcome.tls.problems, []);
});

test('parseConnectTo reads curl\'s HOST:PORT:ADDRESS:PORT, empty parts included', () => {
  assert.deepEqual(parseConnectTo('relay.example.net:25:127.0.0.1:2525'), { host: 'relay.example.net', port: 25, address: '127.0.0.1', toPort: 2525 });
  assert.deepEqual(parseConnectTo('::[::1]:2525'), { host: '', port: 0, address: '::1', toPort: 2525 });
  assert.deepEqual(parseConnectTo('relay.example.net:25:other.example.net:'), { host: 'relay.example.net', port: 25, address: 'other.example.net', toPort: 0 });
  assert.equal(parseConnectTo('relay.example.net:2525'), undefined);
  assert.equal(parseConnectTo('a:99999:b:1'), undefined);
});
