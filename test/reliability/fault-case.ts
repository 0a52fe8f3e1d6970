// One fault case against the next hop: a relay process delivering to the faulty next hop, load
// from the generator, healthy traffic, the fault for a window, healthy again, then every message
// followed to its end. The promise checked afterwards is the same for every case: nothing
// acknowledged is lost, a fault of the network or the session is answered 4xx (never 5xx), and
// no attempt hangs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startFaultyNextHop, type FaultyNextHop } from '../fakes/faulty-next-hop.ts';
import {
  byLength, formatReplies, Ledger, LoadGenerator, mailMix, recordFigures, sleep, startRelay,
  type Counts, type RelayChild,
} from './harness.ts';

/** The relay's --deliver-timeout in every fault case (seconds). */
export const DELIVER_TIMEOUT = byLength(2, 5);
/** How long the fault lasts. */
export const WINDOW_MS = byLength(3_000, 30_000);
/** Load during a fault case: new messages per second over a few persistent connections. */
export const RATE = byLength(25, 40);
export const CONNECTIONS = 8;

export interface FaultCase {
  /** Row label in RELIABILITY.md. */
  readonly name: string;
  /** Ledger id (sequence number prefix). */
  readonly run: string;
  readonly seed?: number;
  /** Starts the fault, waits out the window, and heals it. */
  inject(hop: FaultyNextHop, windowMs: number): Promise<void>;
}

export interface FaultResult {
  readonly counts: Counts;
  readonly relay: RelayChild;
  readonly hop: FaultyNextHop;
}

/** Runs a case end to end and records its row; the caller asserts. */
export async function runFaultCase(c: FaultCase, t: TestContext): Promise<FaultResult> {
  const dir = await mkdtemp(join(tmpdir(), `sigops-reliability-${c.run}-`));
  const hop = await startFaultyNextHop({ seed: c.seed ?? 13 });
  const relay = await startRelay({ dir, nextHop: hop, deliverTimeout: DELIVER_TIMEOUT });
  let counts: Counts;
  try {
    const { messages } = await mailMix();
    const ledger = new Ledger(c.run);
    const load = new LoadGenerator({ port: relay.smtpPort, connections: CONNECTIONS, rate: RATE, ledger, mix: messages }).start();
    await sleep(byLength(500, 5_000)); // healthy traffic first: connections up, pools warm
    await c.inject(hop, WINDOW_MS);
    await sleep(byLength(500, 5_000)); // healthy again
    // after the fault, retries (back-off up to 2 s) and the relay's timeouts must settle everything
    await load.finish(byLength(30_000, 90_000));
    counts = ledger.counts(hop);
    assert.equal(relay.exitCode(), null, 'the relay is still running');
  } finally {
    await relay.stop();
    await hop.close();
    await rm(dir, { recursive: true, force: true });
  }
  const row = faultRow(c.name, counts);
  recordFigures('faults', row);
  t.diagnostic(`${c.name}: ${Object.entries(row).slice(1).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [reply, text] of Object.entries(counts.examples)) if (reply !== '250') t.diagnostic(`  ${reply}: ${text}`);
  // what the relay logged about refusals it could not classify (reason "internal")
  const internal = new Set(relay.logs.filter((l) => l.msg === 'refused' && l.reason === 'internal').map((l) => String(l.cause)));
  for (const cause of internal) t.diagnostic(`  relay: internal error, cause: ${cause}`);
  return { counts, relay, hop };
}

export function faultRow(name: string, c: Counts): Record<string, string | number> {
  return {
    case: name,
    sent: c.sent,
    acknowledged: c.acknowledged,
    'deferred (4xx attempts)': c.deferred,
    'cut off (attempts)': c.noAnswer,
    'relay not listening (attempts)': c.unreachable,
    'rejected (5xx)': c.rejected,
    delivered: c.delivered,
    duplicated: c.duplicated,
    lost: c.lost,
    'longest attempt': `${c.longestAttemptS.toFixed(1)} s`,
    replies: formatReplies(c.replies),
  };
}

/**
 * The promise of every case. `verdicts`: the case made the next hop refuse messages (5xx), so
 * 5xx upstream is expected, but only for those messages.
 */
export function assertPromise(c: Counts, o: { verdicts?: boolean; hangS?: number } = {}): void {
  assert.equal(c.lost, 0, 'acknowledged (2xx) but never delivered');
  assert.equal(c.mismatched, 0, 'a message delivered under another envelope');
  assert.equal(c.duplicatedUnexplained, 0, 'more copies at the next hop than attempts');
  assert.equal(c.rejectedWithoutVerdict, 0, `5xx upstream for a fault of the network or session (replies: ${formatReplies(c.replies)})`);
  if (!o.verdicts) assert.equal(c.rejected, 0, `no 5xx expected (replies: ${formatReplies(c.replies)})`);
  assert.equal(c.gaveUp, 0, `every message ended once the fault was over (replies: ${formatReplies(c.replies)})`);
  assert.equal(c.acknowledged + c.rejected, c.sent);
  // an attempt is bounded by the relay's next-hop timeouts; the client's own idle timeout is 30 s
  const hang = o.hangS ?? 4 * DELIVER_TIMEOUT + 3;
  assert.ok(c.longestAttemptS < hang, `an attempt took ${c.longestAttemptS.toFixed(1)} s (bound ${hang} s)`);
}

