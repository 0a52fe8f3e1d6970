// --require-client-cert: the relay asks for the client's TLS certificate on STARTTLS and, before
// MAIL FROM is accepted, refuses a client without a certificate that chains to the trust store
// and is for the required name (Exchange Online presents one for mail.protection.outlook.com).
// Certificates come from a throw-away CA made in the test.
import assert from 'node:assert/strict';
import { rootCertificates } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { clientTrust, judgeClientCertificate } from '../../src/relay/client-cert.ts';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { TestCa, selfSigned } from '../doctor/pki.ts';
import { RawSmtp, message, send, startTestRelay, type TestRelay } from './helpers.ts';

const EXCHANGE = 'mail.protection.outlook.com';
const env = { from: 'alice@contoso.com', to: ['bob@example.org'] };

describe('--require-client-cert', () => {
  let ca: TestCa;
  let stranger: TestCa;
  let hop: NextHop;
  let r: TestRelay;
  before(async () => {
    ca = TestCa.create('sigops client-cert test CA');
    stranger = TestCa.create('some other CA');
    hop = await startNextHop();
    r = await startTestRelay({ nextHop: hop, clientCertificate: { name: EXCHANGE, ca: clientTrust(ca.cert) } });
  });
  after(async () => {
    await r.stop();
    await hop.close();
    ca.remove();
    stranger.remove();
  });

  const metrics = () => r.metrics.registry.metrics();

  it('accepts a client presenting a verified certificate for the name (as Exchange Online does)', async () => {
    const n = hop.messages.length;
    const res = await send(r.port, env, message(), { clientCertificate: ca.issue(EXCHANGE, { names: [EXCHANGE, `*.${EXCHANGE}`] }) });
    assert.equal(res.ok, true, res.response);
    assert.equal(hop.messages.length, n + 1);
  });

  it('accepts a wildcard for the left-most label (RFC 6125), as in a certificate for *.protection.outlook.com', async () => {
    const res = await send(r.port, env, message(), { clientCertificate: ca.issue('eop certificate', { names: ['*.protection.outlook.com'] }) });
    assert.equal(res.ok, true, res.response);
  });

  const refused = async (cert: { cert: string; key: string } | undefined, reason: string, text: RegExp) => {
    const started = hop.dataStarted;
    const before = await metrics();
    const count = Number(new RegExp(`outcome="deferred",reason="${reason}",tenant=""\\} (\\d+)`).exec(before)?.[1] ?? 0);
    const res = await send(r.port, env, message(), cert ? { clientCertificate: cert } : {});
    assert.equal(res.ok, false, res.response);
    // temporary on purpose: a refused Exchange Online keeps its mail queued while the admin looks
    assert.equal(res.code, 451, res.response);
    assert.match(res.response ?? '', /^451 4\.7\.1 /);
    assert.match(res.response ?? '', text);
    assert.equal(hop.dataStarted, started, 'nothing reached the next hop');
    assert.match(await metrics(), new RegExp(`sigops_relay_messages_total\\{outcome="deferred",reason="${reason}",tenant=""\\} ${count + 1}`));
  };

  it('refuses a client without a certificate before MAIL FROM', () => refused(undefined, 'client-cert-missing', /Client certificate required: this relay accepts mail only from mail\.protection\.outlook\.com/));
  it('refuses a trusted certificate for another name', () => refused(ca.issue('relay.evil.example'), 'client-cert-name', /Client certificate is for relay\.evil\.example, not mail\.protection\.outlook\.com/));
  it('refuses a CN that is right when the subjectAltNames say otherwise', () =>
    refused(ca.issue(EXCHANGE, { names: ['other.example'] }), 'client-cert-name', /not mail\.protection\.outlook\.com/));
  it('refuses a wildcard that would cover two labels', () => refused(ca.issue('wide', { names: ['*.outlook.com'] }), 'client-cert-name', /not mail\.protection\.outlook\.com/));
  it('refuses an expired certificate for the name', () =>
    refused(ca.issue(EXCHANGE, { from: new Date(Date.now() - 30 * 86_400_000), until: new Date(Date.now() - 86_400_000) }), 'client-cert-untrusted', /not trusted \(CERT_HAS_EXPIRED\)/));
  it('refuses a certificate for the name from a CA outside the trust store', () =>
    refused(stranger.issue(EXCHANGE), 'client-cert-untrusted', /not trusted \(UNABLE_TO_GET_ISSUER_CERT_LOCALLY|not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/));
  it('refuses a self-signed certificate for the name', () => refused(selfSigned([EXCHANGE]), 'client-cert-untrusted', /not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/));

  it('asks on STARTTLS, answers at MAIL FROM, and keeps refusing on the same connection', async () => {
    const c = await RawSmtp.open(r.port);
    try {
      await c.cmd('EHLO stranger.example');
      await c.starttls();
      assert.match(await c.cmd('EHLO stranger.example'), /^250/);
      assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^451 4\.7\.1 Client certificate required/);
      assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^451 4\.7\.1 /);
      assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^503 /);
    } finally {
      c.close();
    }
  });

  it('still asks for STARTTLS first', async () => {
    const res = await send(r.port, env, message(), { tls: false });
    assert.equal(res.code, 530);
  });
});

describe('client certificate trust and judgement', () => {
  it('trusts the system store plus --client-ca', () => {
    const extra = selfSigned(['private.example']).cert;
    const trust = clientTrust(extra);
    assert.ok(trust.length > rootCertificates.length, 'the extra CA is added, not substituted');
    for (const root of rootCertificates.slice(0, 5)) assert.ok(trust.includes(root));
    assert.ok(trust.includes(extra));
    assert.deepEqual(clientTrust(), [...clientTrust()]);
  });

  it('reads the CN only when the certificate has no DNS subjectAltName', () => {
    const raw = Buffer.from('x');
    const policy = { name: EXCHANGE, ca: [] };
    assert.equal(judgeClientCertificate(policy, { raw, subject: { CN: EXCHANGE } }, null).ok, true);
    assert.equal(judgeClientCertificate(policy, { raw, subject: { CN: EXCHANGE }, subjectaltname: 'DNS:other.example' }, null).ok, false);
    assert.equal(judgeClientCertificate(policy, { raw, subject: { CN: 'x' }, subjectaltname: `DNS:other.example, DNS:${EXCHANGE}` }, null).ok, true);
    const missing = judgeClientCertificate(policy, {}, null);
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.equal(missing.error.reason, 'client-cert-missing');
  });
});
