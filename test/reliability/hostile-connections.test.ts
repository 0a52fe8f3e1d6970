// Slowloris and connection floods against the relay as its own process, with a short idle
// timeout (2 s) and few client slots (10) so that the limits are reached in seconds.
//
// Defined answers: a client that sends nothing (or less than a byte per idle timeout: before the
// greeting, in a command, in the TLS handshake, in DATA) gets `421 Timeout - closing connection`
// (or, mid-handshake, is dropped) within the timeout, and a message cut off that way is never
// completed at the next hop. Connections past maxClients get `421 … Too many connected clients`
// and are closed, while the sessions already open keep working and new ones are served once
// slots free. A client trickling faster than the idle timeout keeps its slot: the relay has no
// minimum data rate; maxClients bounds how many such clients there can be, and the allow-list
// (only Exchange Online's ranges in production) who they can be.
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CONTOSO } from '../relay/helpers.ts';
import { FULL, startRelayChild, startWireNextHop, Tally, tlsSession, transaction, waitFor, type RelayChild, type WireNextHop } from './hostile-smtp.ts';

const IDLE_MS = 2000;
const MAX_CLIENTS = 10;

const MESSAGE = `From: Alice <alice@contoso.com>\r\nTo: Bob <bob@example.org>\r\nSubject: legitimate\r\nX-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\n\r\nHi Bob\r\n`;

/** A raw connection that records everything it is sent and when it closes. */
function rawConnection(port: number): { socket: Socket; received: () => string; closedAt: () => number | undefined } {
  const socket = netConnect(port, '127.0.0.1');
  let text = '';
  let closed: number | undefined;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = Date.now()));
  return { socket, received: () => text, closedAt: () => closed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hostile input: slowloris and connection floods (relay process, 2 s idle timeout, 10 clients)', () => {
  let hop: WireNextHop;
  let relay: RelayChild;
  const tally = new Tally();
  let floodFigure = '';

  before(async () => {
    hop = await startWireNextHop();
    relay = await startRelayChild({ hop, limits: { socketTimeoutMs: IDLE_MS, maxClients: MAX_CLIENTS } });
  });
  after(async () => {
    const peak = relay ? await relay.peakRssMb() : NaN;
    await relay?.stop();
    await hop?.close();
    process.stdout.write(`# reliability hostile connections: ${tally}; ${floodFigure}; relay VmHWM ${peak}MB\n`);
  });

  it('silent and slow clients (a byte every 3 s) are closed with 421 within the idle timeout, before and after STARTTLS', async () => {
    const started = Date.now();
    const silent = rawConnection(relay.port);
    const slow = rawConnection(relay.port);
    const ticker = setInterval(() => slow.socket.write('N'), 3000);
    // a session that stops in the middle of the TLS handshake (STARTTLS, then no ClientHello)
    const handshake = rawConnection(relay.port);
    await waitFor(() => handshake.received().startsWith('220 '), 'greeting');
    handshake.socket.write('EHLO slow.test\r\nSTARTTLS\r\n');
    // a TLS session that stops in the middle of a command
    const tls = await tlsSession(relay.port);
    tls.write('MAIL FROM:<alice@con');
    try {
      await waitFor(() => silent.closedAt() !== undefined && slow.closedAt() !== undefined && handshake.closedAt() !== undefined && tls.socket.destroyed, 'all four closed', 4 * IDLE_MS + 2000);
    } finally {
      clearInterval(ticker);
    }
    for (const [name, c] of [['silent', silent], ['slow', slow]] as const) {
      assert.match(c.received(), /421 .*Timeout - closing connection/, name);
      assert.ok(c.closedAt()! - started < 2 * IDLE_MS + 3000, `${name} closed in time`);
    }
    assert.match(handshake.received(), /220 .*\r\n/);
    assert.match(await tls.reply(), /^421 .*Timeout/);
    tally.add('slowloris', 4);
  });

  it('a message sent a byte every 3 s: 421 mid-DATA, never completed at the next hop', async () => {
    const before = hop.transactions.length;
    const c = await tlsSession(relay.port);
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    c.write(MESSAGE.slice(0, 200)); // the header block is complete: the relay starts delivering
    let i = 200;
    const ticker = setInterval(() => c.write(MESSAGE.slice(i, ++i)), 3000);
    try {
      assert.match(await c.reply(), /^421 .*Timeout/);
    } finally {
      clearInterval(ticker);
      c.close();
    }
    await sleep(500);
    assert.equal(hop.transactions.length, before, 'nothing completed at the next hop');
    tally.add('slowloris-data');
  });

  const trickleMs = FULL ? 30_000 : 5_000;
  it(`a trickle faster than the idle timeout (a byte a second, ${trickleMs / 1000} s) keeps its slot; the other slots keep serving`, async () => {
    const tricklers = Array.from({ length: MAX_CLIENTS - 2 }, () => rawConnection(relay.port));
    const ticker = setInterval(() => tricklers.forEach((t) => t.socket.write('N')), 1000);
    try {
      await sleep(trickleMs);
      assert.ok(tricklers.every((t) => t.closedAt() === undefined), 'still open: no minimum data rate');
      const c = await tlsSession(relay.port);
      assert.match(await transaction(c, 'alice@contoso.com', ['bob@example.org'], MESSAGE), /^250 2\.6\.0 /);
      c.close();
    } finally {
      clearInterval(ticker);
      tricklers.forEach((t) => t.socket.destroy());
    }
    tally.add('trickle');
  });

  // opened in waves of 200, below the listen backlog (511): a larger burst is dropped by the
  // kernel before the relay sees it (the client believes it is connected and hears nothing)
  const flood = FULL ? 2_000 : 200;
  it(`a flood of ${flood.toLocaleString('en')} connections past maxClients: 421 for the excess, the open session completes, new ones are served after`, async () => {
    await sleep(300); // the tricklers' slots are released
    const legit = await tlsSession(relay.port);
    const conns: Array<ReturnType<typeof rawConnection>> = [];
    const started = Date.now();
    try {
      for (let wave = 0; wave < flood; wave += 200) {
        const batch = Array.from({ length: Math.min(200, flood - wave) }, () => rawConnection(relay.port));
        conns.push(...batch);
        await waitFor(() => batch.every((c) => /^\d{3} /m.test(c.received()) || c.closedAt() !== undefined), 'every connection of the wave answered', 20_000);
        // the session that was open before keeps being served between the waves (and so stays
        // within the idle timeout)
        assert.match(await legit.cmd('NOOP'), /^250 /);
      }
      const elapsed = Date.now() - started;
      const greeted = conns.filter((c) => c.received().startsWith('220 ')).length;
      const refused = conns.filter((c) => /^421 .*Too many connected clients/.test(c.received())).length;
      // a slot frees when its (silent) holder times out: at most once per idle timeout each
      const bound = (MAX_CLIENTS - 1) * (1 + Math.ceil(elapsed / IDLE_MS));
      assert.ok(greeted <= bound, `at most the free slots greeted: ${greeted} (bound ${bound})`);
      assert.equal(greeted + refused, flood, `every other connection refused with 421 (${refused})`);
      await waitFor(() => conns.filter((c) => c.received().startsWith('421')).every((c) => c.closedAt() !== undefined), 'refused connections closed');
      // the session opened before the flood is served during it
      const before = hop.transactions.length;
      assert.match(await transaction(legit, 'alice@contoso.com', ['bob@example.org'], MESSAGE), /^250 2\.6\.0 /);
      assert.equal(hop.transactions.length, before + 1);
      tally.add('flood-connections', flood);
      floodFigure = `flood ${flood}: ${greeted} greeted, ${refused} refused 421 in ${elapsed} ms`;
    } finally {
      legit.close();
      conns.forEach((c) => c.socket.destroy());
    }
    // and once the flood is gone, new sessions are served
    await waitFor(() => conns.every((c) => c.closedAt() !== undefined), 'flood closed');
    await sleep(200);
    const after = await tlsSession(relay.port);
    try {
      assert.match(await transaction(after, 'alice@contoso.com', ['bob@example.org'], MESSAGE), /^250 2\.6\.0 /);
    } finally {
      after.close();
    }
    assert.equal(relay.child.exitCode, null, 'the relay is still running');
  });
});
