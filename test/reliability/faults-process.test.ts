// The relay process itself stopped under load, then started again on the same port (as a
// service manager or a rolling deploy does): SIGTERM drains (messages in flight finish, new ones
// get 421, exit 0), SIGKILL cuts everything; in both, nothing acknowledged is lost, and a message
// cut off before its 250 is retried by the sender (a duplicate at worst, never a loss). And the
// process losing its log reader (stderr a broken pipe): mail must flow, SIGTERM must still end it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startFaultyNextHop, type FaultyNextHop } from '../fakes/faulty-next-hop.ts';
import { assertPromise, CONNECTIONS, DELIVER_TIMEOUT, faultRow, RATE } from './fault-case.ts';
import { byLength, freePort, Ledger, LoadGenerator, mailMix, recordFigures, sleep, startRelay, within, type Counts, type RelayChild } from './harness.ts';

const TIMEOUT = byLength(90_000, 600_000);
/** Stops per case, and the load between two. */
const STOPS = byLength(1, 6);
const BETWEEN_MS = byLength(1_500, 10_000);

interface StopResult {
  readonly counts: Counts;
  /** Exit code or signal of each stopped relay, and what it logged when it stopped. */
  readonly exits: Array<{ code: number | null; signal: NodeJS.Signals | null; drained?: unknown; inFlight?: unknown }>;
}

async function stopUnderLoad(t: TestContext, name: string, run: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<StopResult> {
  const dir = await mkdtemp(join(tmpdir(), `sigops-reliability-${run}-`));
  const hop = await startFaultyNextHop({ direct: true });
  const port = await freePort();
  const start = () => startRelay({ dir, nextHop: hop, port, deliverTimeout: DELIVER_TIMEOUT, drainTimeout: 10 });
  let relay: RelayChild = await start();
  const exits: StopResult['exits'] = [];
  let counts: Counts;
  try {
    const ledger = new Ledger(run);
    // as fast as the connections go: every connection has a message in flight when the signal comes
    const load = new LoadGenerator({ port, connections: CONNECTIONS, ledger, mix: (await mailMix()).messages }).start();
    try {
      for (let i = 0; i < STOPS; i++) {
        await sleep(BETWEEN_MS);
        relay.kill(signal);
        const exit = await within(relay.exited, 30_000);
        assert.ok(exit, `the relay exits after ${signal}`);
        const stopping = relay.logs.find((l) => l.msg === 'stopping: no new mail, finishing messages in flight');
        const stopped = relay.logs.find((l) => l.msg === 'relay stopped');
        exits.push({ ...exit, drained: stopped?.drained, inFlight: stopping?.inFlight });
        relay = await start();
      }
      await sleep(BETWEEN_MS);
    } finally {
      await load.finish(byLength(30_000, 90_000));
    }
    counts = ledger.counts(hop);
  } finally {
    await relay.stop();
    await hop.close();
    await rm(dir, { recursive: true, force: true });
  }
  const row = faultRow(name, counts);
  recordFigures('faults', row);
  t.diagnostic(`${name}: ${Object.entries(row).slice(1).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [reply, text] of Object.entries(counts.examples)) if (reply !== '250') t.diagnostic(`  ${reply}: ${text}`);
  t.diagnostic(`  exits: ${exits.map((e) => `${e.code ?? e.signal}${e.inFlight !== undefined ? ` (in flight ${String(e.inFlight)}, drained ${String(e.drained)})` : ''}`).join(', ')}`);
  return { counts, exits };
}

describe('reliability: the relay process is stopped under load', { concurrency: 1 }, () => {
  it('SIGTERM: drains (in flight finish, new ones 421), exits 0; nothing acknowledged is lost', { timeout: TIMEOUT }, async (t) => {
    const { counts, exits } = await stopUnderLoad(t, `relay SIGTERM under load (×${STOPS}, restarted)`, 'term', 'SIGTERM');
    assertPromise(counts);
    for (const e of exits) {
      assert.equal(e.code, 0, 'exit 0 after SIGTERM');
      assert.equal(e.drained, true, 'every message in flight finished within --drain-timeout');
    }
  });

  it('SIGKILL: no 250 for what the next hop did not accept; nothing acknowledged is lost', { timeout: TIMEOUT }, async (t) => {
    const { counts, exits } = await stopUnderLoad(t, `relay SIGKILL under load (×${STOPS}, restarted)`, 'kill', 'SIGKILL');
    // acknowledged ⊆ delivered is `lost === 0`; copies from attempts cut off after the next hop
    // accepted them are duplicates the sender's retry made, explained by the failed attempts
    assertPromise(counts);
    for (const e of exits) assert.equal(e.signal, 'SIGKILL');
    assert.ok(counts.noAnswer > 0, 'the kill was felt (connections cut)');
  });
});

describe('reliability: the relay\'s log reader goes away (stderr a broken pipe)', { concurrency: 1 }, () => {
  let dir: string;
  let hop: FaultyNextHop;
  const relays: RelayChild[] = [];
  /** A relay whose stderr nobody reads any more, as when the log collector dies. */
  const orphaned = async (): Promise<RelayChild> => {
    const relay = await startRelay({ dir, nextHop: hop, deliverTimeout: DELIVER_TIMEOUT });
    relays.push(relay);
    relay.child.stderr!.destroy();
    return relay;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-reliability-epipe-'));
    hop = await startFaultyNextHop({ direct: true });
  });
  after(async () => {
    for (const relay of relays) {
      relay.kill('SIGKILL');
      await relay.exited;
    }
    await hop.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('under load: mail keeps flowing (logs never hold up a message), and SIGTERM ends the process', { timeout: TIMEOUT }, async (t) => {
    const relay = await orphaned();
    const ledger = new Ledger('epipe');
    const load = new LoadGenerator({ port: relay.smtpPort, connections: CONNECTIONS, rate: RATE, ledger, mix: (await mailMix()).messages }).start();
    await sleep(byLength(2_000, 10_000));
    await load.finish(30_000);
    const counts = ledger.counts(hop);
    const row = faultRow('relay\'s log reader gone (stderr a broken pipe)', counts);
    recordFigures('faults', row);
    t.diagnostic(`${row.case}: ${Object.entries(row).slice(1).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assertPromise(counts);
    assert.equal(counts.deferred + counts.noAnswer, 0, 'nothing held up');
    relay.kill('SIGTERM');
    const exit = await within(relay.exited, 15_000);
    assert.ok(exit, 'the relay exited after SIGTERM');
    assert.equal(exit.code, 0);
  });

  // With no log line written since the reader left, the first failing write is the last flush at
  // exit: sonic-boom's flushSync would retry a write that fails with EPIPE forever, 100 ms apart
  // (pino makes it a no-op only once an asynchronous write has failed), so the relay's exit
  // flush is asynchronous and bounded.
  it('idle: SIGTERM still ends the process', { timeout: TIMEOUT }, async () => {
    const relay = await orphaned();
    await sleep(200);
    relay.kill('SIGTERM');
    const exit = await within(relay.exited, byLength(5_000, 15_000)); // an idle relay exits within a second
    assert.ok(exit, 'the relay exited after SIGTERM');
    assert.equal(exit.code, 0);
  });
});
