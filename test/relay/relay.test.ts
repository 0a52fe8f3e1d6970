// The relay against a real capturing next hop on loopback: identity checks fail closed,
// delivery answers map to the right upstream replies, and 250 only after the next hop accepted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { CONTOSO, FABRIKAM, PAUSED, RawSmtp, decodeQp, message, replyMessage, send, startTestRelay, until, type TestRelay } from './helpers.ts';

const env = (from = 'alice@contoso.com', to = ['bob@example.org']) => ({ from, to });

describe('relay: identity (fail closed)', () => {
  let hop: NextHop;
  let r: TestRelay;
  before(async () => {
    hop = await startNextHop();
    r = await startTestRelay({ nextHop: hop });
  });
  after(async () => {
    await r.stop();
    await hop.close();
  });

  it('relays a registered tenant with its own sender domain, envelope unchanged, Received added', async () => {
    const before = hop.messages.length;
    const res = await send(r.port, env('alice@contoso.com', ['bob@example.org', 'carol@example.net']), message());
    assert.equal(res.ok, true, res.response);
    assert.match(res.response ?? '', /^250 /);
    // the 250 came after the next hop had the message
    assert.equal(hop.messages.length, before + 1);
    const got = hop.messages.at(-1)!;
    assert.equal(got.from, 'alice@contoso.com');
    assert.deepEqual(got.to, ['bob@example.org', 'carol@example.net']);
    assert.equal(got.secure, true);
    const text = got.raw.toString('utf8');
    assert.match(text, /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby relay\.test \(sigops\) with ESMTPS \(TLSv1\.[23] [^)]+\) id \S+;\r\n\t\w{3}, \d+ \w{3} \d{4} /);
    assert.match(text, /\r\nX-Sigops-Processed: true\r\n/);
    assert.match(text, /the numbers are attached/);
  });

  it('signs under the newest reply, above the quoted thread, in both alternatives', async () => {
    const res = await send(r.port, env(), replyMessage());
    assert.equal(res.ok, true, res.response);
    const text = decodeQp(hop.messages.at(-1)!.raw.toString('utf8'));
    for (const [sig, newest, quote] of [
      [text.indexOf('-- SIG-1'), text.indexOf('NEWEST-REPLY-TEXT'), text.indexOf('> Could you send')],
      [text.indexOf('<p>SIG-1</p>'), text.lastIndexOf('NEWEST-REPLY-TEXT'), text.indexOf('<blockquote')],
    ] as const) {
      assert.ok(sig > newest && sig < quote, `signature between newest text (${newest}) and quote (${quote}), found at ${sig}`);
    }
    const metrics = await r.metrics.registry.metrics();
    assert.match(metrics, /sigops_relay_messages_total\{outcome="signed",reason="default",tenant="contoso"\} \d+/);
  });

  const refused = async (raw: string, envelope = env(), pattern = /^550 5\.7\.1 /) => {
    const started = hop.dataStarted;
    const res = await send(r.port, envelope, raw);
    assert.equal(res.ok, false);
    assert.equal(res.code, 550);
    assert.match(res.response ?? '', pattern);
    assert.equal(hop.dataStarted, started, 'nothing reached the next hop');
  };

  it('refuses a message without the tenant header', () => refused(message({ tenantIds: [] }), env(), /550 5\.7\.1 Relaying denied: no X-MS-Exchange-CrossTenant-Id/));
  it('refuses a duplicated tenant header', () => refused(message({ tenantIds: [CONTOSO, CONTOSO] }), env(), /exactly one is required/));
  it('refuses two different tenant headers', () => refused(message({ tenantIds: [CONTOSO, FABRIKAM] })));
  it('refuses an unregistered tenant', () =>
    refused(message({ tenantIds: ['11111111-2222-3333-4444-555555555555'] }), env(), /tenant 11111111-2222-3333-4444-555555555555 is not registered/));
  it('refuses a sender domain of another tenant', () => refused(message({ from: 'eve@fabrikam.com' }), env('eve@fabrikam.com'), /sender domain fabrikam\.com does not belong to tenant contoso/));
  it('refuses a sender domain nobody registered', () => refused(message(), env('mallory@evil.example'), /sender domain evil\.example/));
  it('refuses a look-alike of a tenant domain', async () => {
    await refused(message(), env('a@mailcontoso.com'), /sender domain mailcontoso\.com does not belong to tenant contoso/);
    await refused(message(), env('a@contoso.com.evil.example'), /sender domain contoso\.com\.evil\.example/);
  });
  it('relays a sender of a subdomain of a tenant domain (Exchange may route it; Microsoft 365 keeps it in the tenant)', async () => {
    const n = hop.messages.length;
    const res = await send(r.port, env('a@mail.contoso.com'), message({ from: 'a@mail.contoso.com' }));
    assert.equal(res.ok, true, res.response);
    assert.equal(hop.messages.length, n + 1);
    assert.equal(hop.messages.at(-1)!.from, 'a@mail.contoso.com');
  });

  it('refuses MAIL FROM before STARTTLS with 530 5.7.0', async () => {
    const started = hop.dataStarted;
    const res = await send(r.port, env(), message(), { tls: false });
    assert.equal(res.ok, false);
    assert.equal(res.code, 530);
    assert.match(res.response ?? '', /530 5\.7\.0 Must issue a STARTTLS command first/);
    assert.equal(hop.dataStarted, started);
  });

  it('passes a paused tenant through unsigned, still delivered', async () => {
    const n = hop.messages.length;
    const res = await send(r.port, env('ops@paused.example'), message({ tenantIds: [PAUSED], from: 'ops@paused.example' }));
    assert.equal(res.ok, true, res.response);
    assert.equal(hop.messages.length, n + 1);
    const metrics = await r.metrics.registry.metrics();
    assert.match(metrics, /sigops_relay_messages_total\{outcome="passed",reason="tenant-paused",tenant="paused"\} 1/);
  });

  it('authorises the null sender by the From domain and passes it unsigned', async () => {
    const n = hop.messages.length;
    const res = await send(r.port, env(''), message({ from: 'alice@contoso.com', extra: ['Auto-Submitted: auto-replied'] }));
    assert.equal(res.ok, true, res.response);
    assert.equal(hop.messages.length, n + 1);
    assert.equal(hop.messages.at(-1)!.from, '');
    await refused(message({ from: 'someone@elsewhere.example' }), env(''), /From header domain elsewhere\.example/);
  });

  it('refuses a routing loop (too many Received headers) with 554 5.4.6', async () => {
    const hops = Array.from({ length: 31 }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Sun, 22 Nov 2026 08:00:00 +0000`);
    const started = hop.dataStarted;
    const res = await send(r.port, env(), message({ extra: hops }));
    assert.equal(res.code, 554);
    assert.match(res.response ?? '', /554 5\.4\.6 Routing loop/);
    assert.equal(hop.dataStarted, started);
  });

  it('delivers a message already marked X-Sigops-Processed without marking it twice', async () => {
    const res = await send(r.port, env(), message({ extra: ['X-Sigops-Processed: true'] }));
    assert.equal(res.ok, true, res.response);
    const text = hop.messages.at(-1)!.raw.toString('utf8');
    assert.equal(text.match(/X-Sigops-Processed/g)?.length, 1);
  });

  it('survives a client that drops the connection in the middle of DATA', async () => {
    const started = hop.messages.length;
    const c = await RawSmtp.open(r.port);
    await c.cmd('EHLO client.test');
    await c.starttls();
    await c.cmd('EHLO client.test');
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    c.write(message().slice(0, 300));
    await until(() => hop.dataStarted > 0 || r.relay.messagesInFlight > 0, 'the relay to start the message');
    c.close();
    await until(() => r.relay.messagesInFlight === 0, 'the relay to give up the message');
    assert.equal(hop.messages.length, started, 'a half message never completes at the next hop');
    // and the relay still works
    const res = await send(r.port, env(), message());
    assert.equal(res.ok, true, res.response);
  });
});

describe('relay: next hop failures never give a 250', () => {
  let hop: NextHop;
  let r: TestRelay;
  before(async () => {
    hop = await startNextHop();
    r = await startTestRelay({ nextHop: hop, deliverTimeoutMs: 1500 });
  });
  after(async () => {
    await r.stop();
    await hop.close();
  });

  const expect = async (mode: NextHop['mode'], code: number, pattern: RegExp) => {
    hop.mode = mode;
    const n = hop.messages.length;
    try {
      const res = await send(r.port, env(), message());
      assert.equal(res.ok, false, `expected a refusal in mode ${mode}, got ${res.response}`);
      assert.equal(res.code, code, res.response);
      assert.match(res.response ?? '', pattern);
      assert.equal(hop.messages.length, n);
    } finally {
      hop.mode = 'accept';
    }
  };

  it('next hop answers 4xx after DATA: 451 4.4.0', () => expect('tempfail', 451, /451 4\.4\.0 .*deferred.*451 4\.3\.2 fake next hop busy/));
  it('next hop answers 5xx after DATA: the same 5xx', () => expect('reject', 554, /554 5\.6\.0 Next hop .* refused the message: 554 5\.6\.0 fake/));
  it('next hop resets mid-DATA: 451 4.4.2', () => expect('reset', 451, /451 4\.4\.2 /));
  it('next hop never answers: 451 4.4.1 after the timeout', () => expect('slow', 451, /451 4\.4\.1 /));

  it('some recipients refused 4xx: whole message 451 (Exchange retries)', async () => {
    hop.rcptAnswers.set('later@example.org', 450);
    try {
      const res = await send(r.port, env('alice@contoso.com', ['bob@example.org', 'later@example.org']), message());
      assert.equal(res.ok, false);
      assert.equal(res.code, 451);
      assert.match(res.response ?? '', /451 4\.4\.0 .*deferred recipient\(s\) later@example\.org/);
    } finally {
      hop.rcptAnswers.clear();
    }
  });

  it('some recipients refused 5xx: the 5xx goes back, naming them', async () => {
    hop.rcptAnswers.set('gone@example.org', 550);
    try {
      const res = await send(r.port, env('alice@contoso.com', ['bob@example.org', 'gone@example.org']), message());
      assert.equal(res.ok, false);
      assert.equal(res.code, 550);
      assert.match(res.response ?? '', /550 5\.1\.1 .*refused recipient\(s\) gone@example\.org/);
    } finally {
      hop.rcptAnswers.clear();
    }
  });

  it('every recipient refused 5xx: 5xx', async () => {
    hop.rcptAnswers.set('bob@example.org', 550);
    try {
      const res = await send(r.port, env(), message());
      assert.equal(res.code, 550);
    } finally {
      hop.rcptAnswers.clear();
    }
  });

  it('next hop down: 451 4.4.1, then recovers when it is back', async () => {
    const port = hop.port;
    await hop.close();
    const res = await send(r.port, env(), message());
    assert.equal(res.code, 451);
    assert.match(res.response ?? '', /451 4\.4\.1 No answer from next hop/);
    hop = await startNextHop({ port });
    const ok = await send(r.port, env(), message());
    assert.equal(ok.ok, true, ok.response);
    assert.equal(hop.messages.length, 1);
  });
});

describe('relay: limits, allow-list, outbox, usage', () => {
  it('refuses the 4th recipient with 452 4.5.3 when the limit is 3', async () => {
    const hop = await startNextHop();
    const r = await startTestRelay({ nextHop: hop, limits: { maxRecipients: 3 } });
    try {
      const c = await RawSmtp.open(r.port);
      await c.cmd('EHLO client.test');
      await c.starttls();
      await c.cmd('EHLO client.test');
      await c.cmd('MAIL FROM:<alice@contoso.com>');
      for (const n of [1, 2, 3]) assert.match(await c.cmd(`RCPT TO:<u${n}@example.org>`), /^250/);
      assert.match(await c.cmd('RCPT TO:<u4@example.org>'), /^452 4\.5\.3 Too many recipients/);
      c.close();
    } finally {
      await r.stop();
      await hop.close();
    }
  });

  it('refuses an oversized message with 552 and nothing reaches the next hop', async () => {
    const hop = await startNextHop();
    const r = await startTestRelay({ nextHop: hop, limits: { maxMessageBytes: 4000 } });
    try {
      const res = await send(r.port, env(), message({ body: 'x'.repeat(70) + '\r\n'.repeat(1) + ('y'.repeat(76) + '\r\n').repeat(100) }));
      assert.equal(res.code, 552);
      assert.match(res.response ?? '', /^552 5\.3\.4 /);
      assert.equal(hop.messages.length, 0);
    } finally {
      await r.stop();
      await hop.close();
    }
  });

  it('refuses connections from outside the allow-list', async () => {
    const hop = await startNextHop();
    const r = await startTestRelay({ nextHop: hop, allow: ['10.0.0.0/8'] });
    const open = await startTestRelay({ nextHop: hop, allow: ['127.0.0.0/8', '2a01:111:f400::/48'] });
    try {
      const res = await send(r.port, env(), message());
      assert.equal(res.ok, false);
      assert.match(res.response ?? '', /554 5\.7\.1 Your address is not allowed/);
      const ok = await send(open.port, env(), message());
      assert.equal(ok.ok, true, ok.response);
    } finally {
      await r.stop();
      await open.stop();
      await hop.close();
    }
  });

  it('writes delivered mail to the outbox and records signed senders per tenant and month', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-outbox-'));
    const r = await startTestRelay({ outbox: join(dir, 'outbox'), stateDir: join(dir, 'state') });
    try {
      const res = await send(r.port, env(), message());
      assert.equal(res.ok, true, res.response);
      const files = await readdir(join(dir, 'outbox'));
      assert.equal(files.length, 1);
      assert.match(files[0]!, /^\d{4}-\d\d-\d\dT[\d-]+Z-[\w-]+\.eml$/);
      const eml = await readFile(join(dir, 'outbox', files[0]!), 'utf8');
      assert.match(eml, /^Received: /);
      assert.match(eml, /X-MS-Exchange-CrossTenant-Id: 7c1f3c55/);
    } finally {
      await r.stop();
    }
  });
});
