// Faults of the network between the relay and the next hop, under load: the next hop down,
// flapping, slow (1 byte/s) and black-holing (accepts TCP, never answers). Each must end in
// 4xx upstream (Exchange keeps the message and retries), never a 5xx, never a hang, and nothing
// acknowledged may be missing at the next hop.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPromise, runFaultCase } from './fault-case.ts';
import { byLength, sleep } from './harness.ts';

const TIMEOUT = byLength(90_000, 600_000);

describe('reliability: the network to the next hop fails', { concurrency: 1 }, () => {
  it('next hop down (port closed): 451, then everything delivered once it is back', { timeout: TIMEOUT }, async (t) => {
    const { counts } = await runFaultCase({
      name: 'next hop down',
      run: 'down',
      async inject(hop, ms) {
        await hop.setNetwork('down');
        await sleep(ms);
        await hop.setNetwork('none');
      },
    }, t);
    assertPromise(counts);
    assert.ok(counts.deferred > 0, 'the fault was felt (4xx answers)');
  });

  it('next hop flapping (up and down): no loss, no 5xx', { timeout: TIMEOUT }, async (t) => {
    const period = byLength(500, 2_000);
    const { counts } = await runFaultCase({
      name: `next hop flapping (${period / 1000} s down, ${period / 1000} s up)`,
      run: 'flap',
      async inject(hop, ms) {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          await hop.setNetwork('down');
          await sleep(period);
          await hop.setNetwork('none');
          await sleep(period);
        }
      },
    }, t);
    assertPromise(counts);
    assert.ok(counts.deferred + counts.noAnswer > 0, 'the fault was felt');
  });

  it('next hop slow (1 byte/s both ways): the relay times out with 451, never hangs', { timeout: TIMEOUT }, async (t) => {
    const { counts } = await runFaultCase({
      name: 'next hop slow (1 byte/s)',
      run: 'slow',
      async inject(hop, ms) {
        await hop.setNetwork('slow');
        await sleep(ms);
        await hop.setNetwork('none');
      },
    }, t);
    assertPromise(counts);
    assert.ok(counts.deferred > 0, 'the fault was felt (4xx answers)');
  });

  it('next hop black-holing (accepts TCP, never answers): 451 after the timeout', { timeout: TIMEOUT }, async (t) => {
    const { counts } = await runFaultCase({
      name: 'next hop black hole',
      run: 'hole',
      async inject(hop, ms) {
        await hop.setNetwork('black-hole');
        await sleep(ms);
        await hop.setNetwork('none');
      },
    }, t);
    assertPromise(counts);
    assert.ok(counts.deferred > 0, 'the fault was felt (4xx answers)');
  });
});
