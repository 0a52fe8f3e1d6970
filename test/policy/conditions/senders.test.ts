// The `senders` condition: read, check, match and sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONDITIONS, senders } from '../../../src/policy/conditions/index.ts';
import { checkWhen, matches, message } from './helpers.ts';

test('senders: one address or a list, lower-cased; wrong types dropped', () => {
  assert.deepEqual(senders.read('Bob@Contoso.com'), ['bob@contoso.com']);
  assert.deepEqual(senders.read(['a@contoso.com', 7, 'B@contoso.com']), ['a@contoso.com', 'b@contoso.com']);
  assert.equal(senders.read(42), undefined);
  assert.deepEqual(CONDITIONS.read({ department: ['x'] }).senders, undefined);
});

test('senders: an address outside the tenant domains is an error at the item (or at the single value)', () => {
  const listed = checkWhen({ senders: ['bob@contoso.com', 'boss@other.example'] });
  assert.deepEqual(listed, [{
    severity: 'error', code: 'sender-outside-domains', at: 'senders.1',
    message: "sender boss@other.example is not in this tenant's domains (contoso.com, contoso.co.uk), so the rule could never match it; fix the address or add the domain",
  }]);
  assert.deepEqual(checkWhen({ senders: 'boss@other.example' }).map((r) => r.at), ['senders']);
  // Not an address at all: the schema's to report.
  assert.deepEqual(checkWhen({ senders: ['nobody'] }), []);
});

test('senders: the envelope sender must be listed', () => {
  assert.equal(matches({ senders: ['BOB@contoso.com'] }, message({ sender: 'bob@contoso.com' })), true);
  assert.equal(matches({ senders: ['bob@contoso.com'] }, message({ sender: 'alice@contoso.com', from: { address: 'bob@contoso.com' } })), false);
});

test('senders: the preview tries the listed senders first', () => {
  const s = CONDITIONS.sample(CONDITIONS.read({ senders: ['B@contoso.com'] }), { internalRecipient: false, date: new Date(0), preferredSenders: ['a@contoso.com'] });
  assert.deepEqual(s.preferredSenders, ['a@contoso.com', 'b@contoso.com']);
});
