// The `recipientDomains` condition: read, match and sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONDITIONS, recipientDomains } from '../../../src/policy/conditions/index.ts';
import { matches, message } from './helpers.ts';

test('recipientDomains: one domain or a list, lower-cased', () => {
  assert.deepEqual(recipientDomains.read('Fabrikam.com'), ['fabrikam.com']);
  assert.deepEqual(recipientDomains.read(['a.example', false]), ['a.example']);
});

test('recipientDomains: at least one recipient in a listed domain or one of its subdomains', () => {
  assert.equal(matches({ recipientDomains: ['fabrikam.com'] }, message({ recipients: ['a@x.org', 'b@eu.Fabrikam.com'] })), true);
  assert.equal(matches({ recipientDomains: ['fabrikam.com'] }, message({ recipients: ['a@fabrikam.com'] })), true);
  assert.equal(matches({ recipientDomains: ['fabrikam.com'] }, message({ recipients: ['a@notfabrikam.com'] })), false);
  assert.equal(matches({ recipientDomains: ['fabrikam.com'] }, message({ recipients: [] })), false);
});

test('recipientDomains: the preview writes to the first listed domain', () => {
  const s = CONDITIONS.sample(CONDITIONS.read({ recipientDomains: ['fabrikam.com', 'b.example'], recipients: 'internal' }),
    { internalRecipient: false, date: new Date(0), preferredSenders: [] });
  assert.equal(s.recipientDomain, 'fabrikam.com');
  assert.equal(s.internalRecipient, true);
});
