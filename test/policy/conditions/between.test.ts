// The `between` condition: read, check, match and sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { between, CONDITIONS } from '../../../src/policy/conditions/index.ts';
import { checkWhen, matches, message } from './helpers.ts';

test('between: two valid dates, else no condition', () => {
  assert.deepEqual(between.read({ from: '2026-12-01', until: '2027-01-06' }), { from: '2026-12-01', until: '2027-01-06' });
  assert.equal(between.read({ from: '2026-02-30', until: '2027-01-06' }), undefined);
  assert.equal(between.read({ from: '2026-12-01' }), undefined);
  assert.equal(between.read('2026-12-01'), undefined);
});

test('between: until before from is an error at until', () => {
  assert.deepEqual(checkWhen({ between: { from: '2026-12-24', until: '2026-12-01' } }), [{
    severity: 'error', code: 'date-order', at: 'between.until',
    message: 'between.until 2026-12-01 is before between.from 2026-12-24; the window would never be open — swap or fix the dates',
  }]);
  assert.deepEqual(checkWhen({ between: { from: '2026-12-01', until: '2026-12-01' } }), []);
});

test('between: whole UTC days, both ends included', () => {
  const when = { between: { from: '2026-12-01', until: '2027-01-06' } };
  assert.equal(matches(when, message({ now: '2026-11-30T23:59:59.999Z' })), false);
  assert.equal(matches(when, message({ now: '2026-12-01T00:00:00.000Z' })), true);
  assert.equal(matches(when, message({ now: '2027-01-06T23:59:59.999Z' })), true);
  assert.equal(matches(when, message({ now: '2027-01-07T00:00:00.000Z' })), false);
  // Written by hand with a malformed date: the window stays closed.
  assert.deepEqual(between.compile({ from: 'soon', until: '2027-01-06' })?.(message()), false);
});

test('between: the preview is dated today inside the window, else on its first day', () => {
  const when = CONDITIONS.read({ between: { from: '2026-12-01', until: '2027-01-06' } });
  const at = (iso: string) => CONDITIONS.sample(when, { internalRecipient: false, date: new Date(iso), preferredSenders: [] }).date.toISOString();
  assert.equal(at('2026-12-24T08:00:00.000Z'), '2026-12-24T08:00:00.000Z');
  assert.equal(at('2026-11-22T08:00:00.000Z'), '2026-12-01T12:00:00.000Z');
  assert.equal(at('2027-02-01T08:00:00.000Z'), '2026-12-01T12:00:00.000Z');
});
