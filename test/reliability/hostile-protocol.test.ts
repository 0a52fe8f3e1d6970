// Hostile SMTP sessions: pipelining abuse (a whole transaction and the next one in one packet,
// a refused transaction followed by a good one, RSET storms), commands the relay does not offer
// (BDAT/CHUNKING), commands out of order, STARTTLS command injection, control characters and
// over-long lines in commands, and 5,001 recipients. Each has a defined answer; the session (or
// at least the relay) keeps working afterwards and nothing unexpected reaches the next hop.
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { CONTOSO, FABRIKAM, RawSmtp } from '../relay/helpers.ts';
import { FULL, replies, startRelay, startWireNextHop, Tally, tlsSession, wireProblem, type HostileRelay, type WireNextHop } from './hostile-smtp.ts';

const msg = (subject: string, tenant = CONTOSO, from = 'alice@contoso.com') =>
  `From: Alice <${from}>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\nX-MS-Exchange-CrossTenant-Id: ${tenant}\r\n` +
  `Content-Type: text/plain\r\n\r\nHello Bob\r\n.\r\n`;

describe('hostile input: SMTP sessions', () => {
  let hop: WireNextHop;
  let relay: HostileRelay;
  const tally = new Tally();

  before(async () => {
    hop = await startWireNextHop();
    relay = await startRelay({ hop });
  });
  after(async () => {
    await relay.stop();
    await hop.close();
    process.stdout.write(`# reliability hostile protocol: ${tally}\n`);
  });

  it('two whole transactions and QUIT in one packet (PIPELINING): every reply in order, two messages', async () => {
    const c = await tlsSession(relay.port);
    const before = hop.transactions.length;
    const rcpts = Array.from({ length: 50 }, (_, i) => `RCPT TO:<u${i}@example.org>\r\n`).join('');
    c.write(`MAIL FROM:<alice@contoso.com>\r\n${rcpts}DATA\r\n${msg('first')}MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${msg('second')}QUIT\r\n`);
    const r = await replies(c, 1 + 50 + 1 + 1 + 4 + 1);
    assert.deepEqual(
      r.map((x) => x.slice(0, 3)),
      ['250', ...Array<string>(50).fill('250'), '354', '250', '250', '250', '354', '250', '221'],
    );
    const delivered = hop.transactions.slice(before);
    assert.equal(delivered.length, 2);
    assert.equal(delivered[0]!.to.length, 50);
    for (const tx of delivered) assert.equal(wireProblem(tx.wire), undefined);
    c.close();
    tally.add('pipelining');
  });

  it('three whole transactions and NOOP in one packet: none stalls (smtp-server lost its continuation when MAIL FROM was answered synchronously)', async () => {
    const c = await tlsSession(relay.port);
    const before = hop.transactions.length;
    const tx = (s: string) => `MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${msg(s)}`;
    c.write(tx('one') + tx('two') + tx('three') + 'NOOP\r\n');
    const r = await replies(c, 13, 10_000);
    assert.deepEqual(r.map((x) => x.slice(0, 3)), ['250', '250', '354', '250', '250', '250', '354', '250', '250', '250', '354', '250', '250']);
    assert.equal(hop.transactions.length - before, 3);
    c.close();
    tally.add('pipelining');
  });

  it('a refused transaction pipelined before a good one: 550 for the first, 250 for the second, only the second delivered', async () => {
    const c = await tlsSession(relay.port);
    const before = hop.transactions.length;
    c.write(
      `MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${msg('forged', FABRIKAM)}` +
        `MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${msg('good')}`,
    );
    const r = await replies(c, 8);
    assert.match(r[3]!, /^550 5\.7\.1 .*sender domain contoso\.com does not belong to tenant fabrikam/);
    assert.match(r[7]!, /^250 2\.6\.0 /);
    const delivered = hop.transactions.slice(before);
    assert.equal(delivered.length, 1);
    assert.match(delivered[0]!.wire.toString('latin1'), /Subject: good/);
    c.close();
    tally.add('pipelining');
  });

  it(`an RSET storm (${FULL ? '100,000' : '10,000'} in one write): each answered 250, then a transaction still works`, async () => {
    const n = FULL ? 100_000 : 10_000;
    const c = await tlsSession(relay.port);
    const started = Date.now();
    c.write('RSET\r\n'.repeat(n));
    const r = await replies(c, n);
    assert.equal(r.length, n);
    assert.deepEqual([...new Set(r)], ['250 Flushed']);
    assert.ok(Date.now() - started < 30_000, 'answered within the deadline');
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    assert.match(await c.cmd(msg('after the storm').replace(/\r\n\.\r\n$/, '\r\n.')), /^250 2\.6\.0 /);
    c.close();
    tally.add('rset-storm');
  });

  it('BDAT (CHUNKING is not offered): 500, its chunk read as (unknown) commands, nothing delivered, the session goes on', async () => {
    const c = await RawSmtp.open(relay.port);
    const ehlo = await c.cmd('EHLO outbound.protection.outlook.test');
    assert.doesNotMatch(ehlo, /CHUNKING|BINARYMIME/);
    await c.starttls();
    assert.doesNotMatch(await c.cmd('EHLO outbound.protection.outlook.test'), /CHUNKING|BINARYMIME/);
    const before = hop.transactions.length;
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^250/);
    const chunk = `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\nSubject: chunked\r\n`;
    c.write(`BDAT ${chunk.length} LAST\r\n${chunk}NOOP\r\n`);
    const r = await replies(c, 4);
    assert.deepEqual(r.map((x) => x.slice(0, 3)), ['500', '500', '500', '250']);
    assert.equal(hop.transactions.length, before);
    c.close();
    tally.add('bdat');
  });

  it('commands out of order: DATA or RCPT before MAIL answered 503, the session goes on', async () => {
    const c = await tlsSession(relay.port);
    assert.match(await c.cmd('DATA'), /^503 /);
    assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^503 /);
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    assert.match(await c.cmd('DATA'), /^503 /);
    assert.match(await c.cmd('NOOP'), /^250/);
    c.close();
    tally.add('out-of-order', 3);
  });

  it('ten unknown commands: 500 nine times, then 421 and the connection is closed; the relay keeps serving', async () => {
    const c = await tlsSession(relay.port);
    c.write('XYZZY\r\n'.repeat(12));
    const r = await replies(c, 11);
    assert.deepEqual(r.map((x) => x.slice(0, 3)), [...Array<string>(9).fill('500'), '421', '']);
    c.close();
    const d = await tlsSession(relay.port);
    assert.match(await d.cmd('NOOP'), /^250/);
    d.close();
    tally.add('unknown-command-storm');
  });

  it('STARTTLS command injection: plaintext pipelined after STARTTLS is discarded', async () => {
    const c = await RawSmtp.open(relay.port);
    await c.cmd('EHLO outbound.protection.outlook.test');
    c.write('STARTTLS\r\nMAIL FROM:<alice@contoso.com>\r\n');
    assert.match(await c.reply(), /^220 /);
    const plain = c.socket;
    plain.removeAllListeners('data');
    const s = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((res, rej) => {
      s.once('secureConnect', () => res());
      s.once('error', rej);
    });
    const t = new RawSmtp(s);
    assert.match(await t.cmd('EHLO outbound.protection.outlook.test'), /^250/);
    assert.match(await t.cmd('RCPT TO:<bob@example.org>'), /^503 .*need MAIL/, 'the injected MAIL FROM was not executed');
    t.close();
    tally.add('starttls-injection');
  });

  it('control characters in envelope addresses (bare CR, NUL, DEL): 501, nothing reaches the next hop', async () => {
    const c = await tlsSession(relay.port);
    const before = hop.transactions.length;
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com\rRCPT TO:<x@example.org>>'), /^501 /);
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    for (const bad of ['bob@example.org\rRCPT TO:<eve@example.org', 'bob\x00@example.org', 'bob\x7f@example.org']) {
      assert.match(await c.cmd(`RCPT TO:<${bad}>`), /^501 /, JSON.stringify(bad));
      tally.add('control-in-address');
    }
    assert.match(await c.cmd('DATA'), /^503 /, 'no recipient was accepted');
    assert.equal(hop.transactions.length, before);
    c.close();
  });

  it('a command line over 16 KB (and one of 1 MB without a line break): 421 and closed; the relay keeps serving', async () => {
    for (const line of ['RCPT TO:<' + 'a'.repeat(20_000) + '@example.org>\r\n', 'X'.repeat(1024 * 1024)]) {
      const c = await tlsSession(relay.port);
      c.write(line);
      assert.match(await c.reply(), /^421 .*too long/i);
      assert.equal(await c.reply(), '', 'closed');
      c.close();
      tally.add('long-command');
    }
    const d = await tlsSession(relay.port);
    assert.match(await d.cmd('NOOP'), /^250/);
    d.close();
  });

  it('5,001 recipients: the 5,001st gets 452 4.5.3, the message goes to the first 5,000', async () => {
    const c = await tlsSession(relay.port);
    const before = hop.transactions.length;
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    c.write(Array.from({ length: 5001 }, (_, i) => `RCPT TO:<r${i}@example.org>\r\n`).join(''));
    const r = await replies(c, 5001);
    assert.equal(r.filter((x) => x.startsWith('250')).length, 5000);
    assert.match(r[5000]!, /^452 4\.5\.3 Too many recipients/);
    assert.match(await c.cmd('DATA'), /^354/);
    assert.match(await c.cmd(msg('many').replace(/\r\n\.\r\n$/, '\r\n.')), /^250 2\.6\.0 /);
    const delivered = hop.transactions.slice(before);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0]!.to.length, 5000);
    assert.equal(delivered[0]!.to[4999], 'r4999@example.org');
    c.close();
    tally.add('recipients-5001');
  });
});
