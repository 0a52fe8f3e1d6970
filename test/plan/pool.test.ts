import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit } from '../../src/plan/pool.ts';

test('mapLimit keeps input order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    for (let k = 0; k < n; k++) await Promise.resolve();
    running--;
    return `${i}:${n}`;
  });
  assert.deepEqual(out, ['0:5', '1:1', '2:4', '3:2', '4:3', '5:0']);
  assert.equal(peak, 2);
  assert.deepEqual(await mapLimit([], 4, async () => 1), []);
});

test('mapLimit rejects when a task fails', async () => {
  await assert.rejects(mapLimit([1, 2, 3], 2, async (n) => {
    if (n === 2) throw new Error('boom');
    return n;
  }), /boom/);
});
