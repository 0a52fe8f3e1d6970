// Spoofing: every way of passing for a tenant (or for the relay's trusted source) that the relay
// must refuse with the code docs/relay.md documents, with nothing delivered to the next hop.
//
// Decisions: header field names are case-insensitive (RFC 5322 section 1.2.2), so
// `x-ms-exchange-crosstenant-id` alone *is* the tenant header, and a GUID is the same tenant in
// either case; two tenant headers in any spelling (an empty one too) are refused. A field hidden
// behind a bare CR is a field (the next hop gets the CR as CRLF), and a tenant header past the
// 1 MB header limit is refused with the whole message (the checks cannot see it). The client
// certificate check (--require-client-cert) has its own cases in test/relay/client-cert.test.ts;
// one end-to-end case is here.
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startNextHop } from '../fakes/next-hop.ts';
import { CONTOSO, FABRIKAM, RawSmtp } from '../relay/helpers.ts';
import { startRelay, startWireNextHop, Tally, tlsSession, transaction, type HostileRelay, type WireNextHop } from './hostile-smtp.ts';

const DENIED = /^550 5\.7\.1 Relaying denied: /;

function mail(o: { tenantLines?: string[]; from?: string; before?: string[]; body?: string } = {}): string {
  return [
    ...(o.before ?? []),
    `From: Alice Example <${o.from ?? 'alice@contoso.com'}>`,
    'To: Bob <bob@example.org>',
    'Subject: quarterly numbers',
    'Message-ID: <spoof@contoso.com>',
    ...(o.tenantLines ?? [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`]),
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.body ?? 'Hi Bob,\r\n\r\nthe numbers.\r\n',
  ].join('\r\n');
}

interface Case {
  readonly name: string;
  readonly from?: string;
  readonly data: string | Buffer;
  /** The defined answer. */
  readonly answer: RegExp;
}

const CASES: Case[] = [
  // the tenant header
  { name: 'no tenant header', data: mail({ tenantLines: [] }), answer: /^550 5\.7\.1 Relaying denied: no X-MS-Exchange-CrossTenant-Id header/ },
  { name: 'forged tenant id (not registered)', data: mail({ tenantLines: ['X-MS-Exchange-CrossTenant-Id: 9a9a9a9a-0000-4000-8000-000000000000'] }), answer: /^550 5\.7\.1 Relaying denied: tenant 9a9a9a9a-0000-4000-8000-000000000000 is not registered/ },
  { name: 'tenant id in braces', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: {${CONTOSO}}`] }), answer: /^550 5\.7\.1 Relaying denied: tenant \?7c1f3c55/ },
  { name: 'tenant id as an encoded word', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: =?utf-8?q?${CONTOSO}?=`] }), answer: /^550 5\.7\.1 Relaying denied: tenant .* is not registered/ },
  { name: 'the same id twice', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`, `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`] }), answer: /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers, exactly one is required/ },
  { name: 'two tenants', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`, `X-MS-Exchange-CrossTenant-Id: ${FABRIKAM}`] }), answer: /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers/ },
  { name: 'duplicated in another case (x-ms-exchange-crosstenant-id)', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`, `x-ms-exchange-crosstenant-id: ${FABRIKAM}`] }), answer: /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers/ },
  { name: 'duplicated in upper case, same id upper-cased', data: mail({ tenantLines: [`X-MS-EXCHANGE-CROSSTENANT-ID: ${CONTOSO.toUpperCase()}`, `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`] }), answer: /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers/ },
  { name: 'duplicated with space before the colon', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`, `X-MS-Exchange-CrossTenant-Id : ${FABRIKAM}`] }), answer: /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers/ },
  { name: 'a second, empty tenant header', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`, 'X-MS-Exchange-CrossTenant-Id: '] }), answer: /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers/ },
  { name: 'a second tenant header hidden behind a bare CR', data: mail({ before: [`X-Note: hello\rX-MS-Exchange-CrossTenant-Id: ${FABRIKAM}`] }), answer: /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers/ },
  { name: 'the tenant header only inside a MIME part', data: mail({ tenantLines: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"'], body: `--b\r\nX-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n` }).replace('Content-Type: text/plain; charset=utf-8\r\n', ''), answer: /^550 5\.7\.1 Relaying denied: no X-MS-Exchange-CrossTenant-Id header/ },
  { name: 'a second tenant header past the 1 MB header limit', data: mail({ before: Array.from({ length: 1200 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(990)}`), tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`, ...Array.from({ length: 200 }, (_, i) => `X-More-${i}: ${'m'.repeat(990)}`), `X-MS-Exchange-CrossTenant-Id: ${FABRIKAM}`] }), answer: /^552 5\.3\.4 Message header block exceeds the maximum size of 1048576 bytes/ },
  { name: 'a NUL byte in the tenant header', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}\x00${FABRIKAM}`] }), answer: /^554 5\.6\.0 Message contains a NUL byte/ },
  // sender domains
  { name: "tenant A's header with tenant B's sender domain", from: 'ceo@fabrikam.com', data: mail({ from: 'ceo@fabrikam.com' }), answer: /^550 5\.7\.1 Relaying denied: sender domain fabrikam\.com does not belong to tenant contoso/ },
  { name: "tenant A's header with a subdomain of tenant B", from: 'ceo@mail.fabrikam.com', data: mail({ from: 'ceo@mail.fabrikam.com' }), answer: /^550 5\.7\.1 Relaying denied: sender domain mail\.fabrikam\.com does not belong to tenant contoso/ },
  { name: 'a look-alike of the tenant domain', from: 'ceo@contoso.com.evil.example', data: mail({ from: 'ceo@contoso.com.evil.example' }), answer: /^550 5\.7\.1 Relaying denied: sender domain contoso\.com\.evil\.example does not belong to tenant contoso/ },
  { name: 'a domain nobody registered', from: 'mallory@evil.example', data: mail({ from: 'mallory@evil.example' }), answer: /^550 5\.7\.1 Relaying denied: sender domain evil\.example/ },
  { name: "null sender with tenant B's From", from: '', data: mail({ from: 'ceo@fabrikam.com' }), answer: /^550 5\.7\.1 Relaying denied: From header domain fabrikam\.com does not belong to tenant contoso/ },
  { name: "null sender with tenant B's From hidden ahead behind a bare CR", from: '', data: mail({ before: ['X-Note: hello\rFrom: CEO <ceo@fabrikam.com>'] }), answer: /^550 5\.7\.1 Relaying denied: From header domain fabrikam\.com does not belong to tenant contoso/ },
  { name: 'null sender without From', from: '', data: mail().replace(/^From: .*\r\n/m, ''), answer: /^550 5\.7\.1 Relaying denied: From header domain \(none\)/ },
];

/** Accepted spellings: the same tenant, so the same answer as the plain header. */
const ACCEPTED: Case[] = [
  { name: 'lower-case header name alone (the same header, RFC 5322)', data: mail({ tenantLines: [`x-ms-exchange-crosstenant-id: ${CONTOSO}`] }), answer: /^250 2\.6\.0 / },
  { name: 'upper-case GUID (the same tenant)', data: mail({ tenantLines: [`X-MS-Exchange-CrossTenant-Id: ${CONTOSO.toUpperCase()}`] }), answer: /^250 2\.6\.0 / },
  { name: 'folded value with spaces around it', data: mail({ tenantLines: ['X-MS-Exchange-CrossTenant-Id:', `   ${CONTOSO}  `] }), answer: /^250 2\.6\.0 / },
];

describe('spoofing: refused with the documented code, nothing delivered', () => {
  let hop: WireNextHop;
  let relay: HostileRelay;
  let c: RawSmtp;
  const tally = new Tally();

  before(async () => {
    hop = await startWireNextHop();
    relay = await startRelay({ hop });
    c = await tlsSession(relay.port);
  });
  after(async () => {
    c.close();
    await relay.stop();
    await hop.close();
    process.stdout.write(`# reliability spoofing: ${tally}\n`);
  });

  for (const k of CASES) {
    it(`${k.name}: ${k.answer.source.replace(/^\^|\\/g, '').slice(0, 60)}`, async () => {
      const before = hop.transactions.length;
      const answer = await transaction(c, k.from ?? 'alice@contoso.com', ['bob@example.org'], k.data);
      assert.match(answer, k.answer);
      assert.equal(hop.transactions.length, before, 'nothing delivered');
      tally.add('refused');
    });
  }

  for (const k of ACCEPTED) {
    it(`${k.name}: relayed`, async () => {
      const before = hop.transactions.length;
      assert.match(await transaction(c, 'alice@contoso.com', ['bob@example.org'], k.data), k.answer);
      assert.equal(hop.transactions.length, before + 1);
      tally.add('accepted');
    });
  }

  it('plaintext: MAIL FROM without STARTTLS gets 530 5.7.0, and DATA cannot follow', async () => {
    const p = await RawSmtp.open(relay.port);
    await p.cmd('EHLO outbound.protection.outlook.test');
    const before = hop.transactions.length;
    assert.match(await p.cmd('MAIL FROM:<alice@contoso.com>'), /^530 5\.7\.0 Must issue a STARTTLS command first/);
    assert.match(await p.cmd('RCPT TO:<bob@example.org>'), /^5\d\d /);
    assert.match(await p.cmd('DATA'), /^5\d\d /);
    // the message text sent anyway is read as commands, never as a message
    p.write(`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\n\r\nhello\r\n.\r\n`);
    p.close();
    assert.equal(hop.transactions.length, before);
    tally.add('refused');
  });

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    it(`${version}: the handshake is refused (a legacy MTA accepts the same client)`, async () => {
      const legacy = await startNextHop({ legacyTls: true });
      try {
        assert.equal(await handshake(legacy.port, version), 'ok', 'the client really speaks it');
        assert.equal(await handshake(relay.port, version), 'refused');
      } finally {
        await legacy.close();
      }
      tally.add('refused');
    });
  }

  it('TLSv1.2 and TLSv1.3 are accepted', async () => {
    assert.equal(await handshake(relay.port, 'TLSv1.2'), 'ok');
    assert.equal(await handshake(relay.port, 'TLSv1.3'), 'ok');
  });

  it('with --require-client-cert: a client without Exchange Online\'s certificate gets 451 4.7.1 at MAIL FROM, nothing delivered', async () => {
    const guarded = await startRelay({ hop, clientCertificate: { name: 'mail.protection.outlook.com', ca: [] } });
    try {
      const before = hop.transactions.length;
      const q = await tlsSession(guarded.port);
      assert.match(await transaction(q, 'alice@contoso.com', ['bob@example.org'], mail()), /^451 4\.7\.1 Client certificate required/);
      q.close();
      assert.equal(hop.transactions.length, before);
      tally.add('refused');
    } finally {
      await guarded.stop();
    }
  });

  it('a source outside the allow-list: 554 5.7.1 at connect, nothing delivered; an allowed source is served', async () => {
    const closed = await startRelay({ hop, allow: ['10.0.0.0/8', '2a01:111:f400::/48'] });
    const open = await startRelay({ hop, allow: ['127.0.0.1'] });
    try {
      const before = hop.transactions.length;
      const p = await RawSmtp.open(closed.port).catch((e: Error) => e);
      assert.ok(p instanceof Error, 'no greeting');
      assert.match(p.message, /554 5\.7\.1 Your address is not allowed to use this relay/);
      assert.equal(hop.transactions.length, before);
      const q = await tlsSession(open.port);
      assert.match(await transaction(q, 'alice@contoso.com', ['bob@example.org'], mail()), /^250 /);
      q.close();
      tally.add('refused');
    } finally {
      await closed.stop();
      await open.stop();
    }
  });
});

/** A STARTTLS handshake capped at `version`. */
async function handshake(port: number, version: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'): Promise<'ok' | 'refused'> {
  const c = await RawSmtp.open(port);
  await c.cmd('EHLO client.test');
  assert.match(await c.cmd('STARTTLS'), /^220/);
  c.socket.removeAllListeners('data');
  const legacy = version === 'TLSv1' || version === 'TLSv1.1';
  const s = tlsConnect({ socket: c.socket, rejectUnauthorized: false, minVersion: version, maxVersion: version, ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}) });
  try {
    return await new Promise((resolve) => {
      s.once('secureConnect', () => resolve('ok'));
      s.once('error', () => resolve('refused'));
    });
  } finally {
    s.destroy();
  }
}
