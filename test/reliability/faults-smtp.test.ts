// Faults of the next hop's SMTP session, under load: resets and closes in the middle of DATA, 4xx and 5xx
// answers at random (seeded), and a next hop that stops offering STARTTLS. A reset or a missing
// STARTTLS is a fault of the session (4xx upstream, retried); a 5xx of the next hop is a verdict
// on the message and goes upstream as 5xx, for that message only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_SMTP_FAULTS } from '../fakes/faulty-next-hop.ts';
import { assertPromise, runFaultCase } from './fault-case.ts';
import { byLength, sleep } from './harness.ts';

const TIMEOUT = byLength(90_000, 600_000);

describe('reliability: the next hop misbehaves in SMTP', { concurrency: 1 }, () => {
  it('next hop resets (RST) or closes (FIN) the connection in the middle of DATA: 451, retried, no loss', { timeout: TIMEOUT }, async (t) => {
    const { counts } = await runFaultCase({
      name: 'next hop resets (25 %) or closes (25 %) the connection mid-DATA',
      run: 'reset',
      async inject(hop, ms) {
        hop.smtp = { ...NO_SMTP_FAULTS, reset: 0.25, drop: 0.25 };
        await sleep(ms);
        hop.smtp = { ...NO_SMTP_FAULTS };
      },
    }, t);
    assertPromise(counts);
    assert.ok(counts.deferred > 0, 'the fault was felt (4xx answers)');
  });

  it('next hop answers 4xx and 5xx at random (seeded): 4xx retried, 5xx only for its verdicts', { timeout: TIMEOUT }, async (t) => {
    const { counts } = await runFaultCase({
      name: 'next hop answers 4xx (20 %) / 5xx (10 %) at random',
      run: 'random',
      seed: 2026,
      async inject(hop, ms) {
        hop.smtp = { ...NO_SMTP_FAULTS, tempfail: 0.2, reject: 0.1 };
        await sleep(ms);
        hop.smtp = { ...NO_SMTP_FAULTS };
      },
    }, t);
    assertPromise(counts, { verdicts: true });
    assert.ok(counts.deferred > 0, '4xx answers were passed on as 4xx');
    assert.ok(counts.rejected > 0, 'the next hop\'s 5xx verdicts were passed on as 5xx');
  });

  // A next hop without STARTTLS is a fault of the session (the relay will not send in clear), so
  // the sender must get 4xx and retry, not a bounce
  it('next hop stops offering STARTTLS: 4xx (retried), never 5xx', { timeout: TIMEOUT }, async (t) => {
    const { counts } = await runFaultCase({
      name: 'next hop offers no STARTTLS',
      run: 'notls',
      async inject(hop, ms) {
        hop.smtp = { ...NO_SMTP_FAULTS, noStartTls: true };
        // open connections (already in TLS) are dropped, as when the next hop restarts without TLS
        await hop.setNetwork('down');
        await hop.setNetwork('none');
        await sleep(ms);
        hop.smtp = { ...NO_SMTP_FAULTS };
        await hop.setNetwork('down');
        await hop.setNetwork('none');
      },
    }, t);
    assertPromise(counts);
    assert.ok(counts.deferred > 0, 'the fault was felt (4xx answers)');
  });
});
