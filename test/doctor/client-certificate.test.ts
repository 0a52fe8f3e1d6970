// The relay's client certificate for certificateDomain, as the relay reads it
// (<dir>/<certificateDomain>.crt and .key): each way it can be wrong is its own finding.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { checkClientCertificate, type Problem } from '../../src/doctor/index.ts';
import { TestCa, selfSigned, type IssuedCertificate } from './pki.ts';

const NAME = 'contoso.relay.sigops.example.net';
let ca: TestCa;
let root: string;
let n = 0;

before(() => {
  ca = TestCa.create();
  root = mkdtempSync(join(tmpdir(), 'sigops-client-certs-'));
});
after(() => {
  ca.remove();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory holding the given files for NAME. */
function dirWith(files: { crt?: string; key?: string }): string {
  const dir = join(root, String(n++));
  execFileSync('mkdir', ['-p', dir]);
  if (files.crt !== undefined) writeFileSync(join(dir, `${NAME}.crt`), files.crt);
  if (files.key !== undefined) writeFileSync(join(dir, `${NAME}.key`), files.key);
  return dir;
}

const codes = (problems: readonly Problem[]): string[] => problems.map((p) => `${p.severity}:${p.code}`);
const check = (dir: string, withCa = true) => checkClientCertificate({ dir, certificateDomain: NAME, ...(withCa ? { ca: ca.cert } : {}) });
const files = (c: IssuedCertificate) => ({ crt: c.cert, key: c.key });

test('a certificate for certificateDomain from a trusted CA with its key: nothing to fix', async () => {
  const dir = dirWith(files(ca.issue(NAME)));
  const outcome = await check(dir);
  assert.deepEqual(outcome.problems, []);
  assert.match(outcome.summary, new RegExp(`${NAME}\\.crt: ${NAME.replaceAll('.', '\\.')}, valid until \\d{4}-\\d\\d-\\d\\d, key matches, chains to CN=sigops doctor test CA`));
});

test('a wildcard covering certificateDomain is fine', async () => {
  const dir = dirWith(files(ca.issue('*.relay.sigops.example.net')));
  assert.deepEqual((await check(dir)).problems, []);
});

test('missing files: the relay would connect without a certificate', async () => {
  const none = await check(dirWith({}));
  assert.deepEqual(codes(none.problems), ['error:client-certificate-missing']);
  assert.match(none.problems[0]!.message, new RegExp(`neither .*${NAME}\\.crt nor .*${NAME}\\.key exists`));
  assert.match(none.problems[0]!.advice, /\.crt \(certificate, then its intermediates, PEM\)/);

  const keyOnly = await check(dirWith({ key: ca.issue(NAME).key }));
  assert.deepEqual(codes(keyOnly.problems), ['error:client-certificate-missing']);
  assert.match(keyOnly.problems[0]!.message, new RegExp(`no client certificate for ${NAME}: .*\\.crt does not exist`));
});

test('a key that belongs to another certificate', async () => {
  const dir = dirWith({ crt: ca.issue(NAME).cert, key: ca.issue(NAME).key });
  const outcome = await check(dir);
  assert.deepEqual(codes(outcome.problems), ['error:client-key-mismatch']);
  assert.match(outcome.problems[0]!.message, /does not belong to the certificate/);
});

test('an encrypted key', async () => {
  const c = ca.issue(NAME);
  const encrypted = execFileSync('openssl', ['pkey', '-aes256', '-passout', 'pass:secret'], { input: c.key }).toString();
  const outcome = await check(dirWith({ crt: c.cert, key: encrypted }));
  assert.deepEqual(codes(outcome.problems), ['error:client-key-encrypted']);
});

test('a certificate for another name', async () => {
  const outcome = await check(dirWith(files(ca.issue('fabrikam.relay.sigops.example.net'))));
  assert.deepEqual(codes(outcome.problems), ['error:client-certificate-name-mismatch']);
  assert.match(outcome.problems[0]!.message, /is for fabrikam\.relay\.sigops\.example\.net, not contoso\.relay\.sigops\.example\.net/);
  assert.match(outcome.problems[0]!.message, /TlsSenderCertificateName/);
});

test('expired is an error, expiring within 30 days a warning', async () => {
  const expired = await check(dirWith(files(ca.issue(NAME, { from: new Date('2020-01-01'), until: new Date('2020-02-01') }))));
  assert.deepEqual(codes(expired.problems), ['error:certificate-expired']);
  assert.match(expired.problems[0]!.message, /the client certificate for contoso\.relay\.sigops\.example\.net expired on 2020-02-01/);
  const soon = await check(dirWith(files(ca.issue(NAME, { days: 5 }))));
  assert.deepEqual(codes(soon.problems), ['warning:certificate-expiring']);
  // The same certificate judged at a later date.
  const later = await checkClientCertificate({ dir: dirWith(files(ca.issue(NAME, { days: 90 }))), certificateDomain: NAME, ca: ca.cert, now: new Date(Date.now() + 80 * 86_400_000) });
  assert.deepEqual(codes(later.problems), ['warning:certificate-expiring']);
});

test('self-signed, or from a CA nobody trusts: warnings (Exchange Online trusts public CAs)', async () => {
  const self = await check(dirWith(files(selfSigned([NAME]))));
  assert.deepEqual(codes(self.problems), ['warning:client-certificate-self-signed']);
  const untrusted = await check(dirWith(files(ca.issue(NAME))), false);
  assert.deepEqual(codes(untrusted.problems), ['warning:client-certificate-untrusted']);
  assert.match(untrusted.problems[0]!.message, /issuer CN=sigops doctor test CA/);
  assert.match(untrusted.problems[0]!.advice, /append its intermediate certificates/);
});

test('a chain through an intermediate given after the certificate in the .crt', async () => {
  const sub = ca.intermediate('sigops doctor test intermediate');
  try {
    const leaf = sub.issue(NAME);
    const withChain = await check(dirWith({ crt: `${leaf.cert}${sub.cert}`, key: leaf.key }));
    assert.deepEqual(withChain.problems, []);
    assert.match(withChain.summary, /chains to CN=sigops doctor test CA/);
    // Without the intermediate in the file the chain cannot be built.
    const bare = await check(dirWith({ crt: leaf.cert, key: leaf.key }));
    assert.deepEqual(codes(bare.problems), ['warning:client-certificate-untrusted']);
    assert.match(bare.problems[0]!.message, /issuer CN=sigops doctor test intermediate/);
  } finally {
    sub.remove();
  }
});

test('garbage in the .crt is unreadable, not a crash', async () => {
  const outcome = await check(dirWith({ crt: 'not a certificate\n', key: ca.issue(NAME).key }));
  assert.deepEqual(codes(outcome.problems), ['error:client-certificate-unreadable']);
});
