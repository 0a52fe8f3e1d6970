// The `recipients` condition: read, check (with its sibling recipientDomains), match and sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONDITIONS, recipients } from '../../../src/policy/conditions/index.ts';
import { checkWhen, matches, message } from './helpers.ts';

test('recipients: internal, external or any; anything else is no condition', () => {
  assert.equal(recipients.read('internal'), 'internal');
  assert.equal(recipients.read('any'), 'any');
  assert.equal(recipients.read('Internal'), undefined);
  assert.equal(CONDITIONS.constrains(CONDITIONS.read({ recipients: 'any' })), false);
  assert.equal(CONDITIONS.constrains(CONDITIONS.read({ recipients: 'external' })), true);
});

test('recipients: internal never matches while Exchange sends only external mail through sigops', () => {
  assert.deepEqual(checkWhen({ recipients: 'internal' }, { exchange: { internal: false } }), [{
    severity: 'warning', code: 'rule-never-matches', at: 'recipients',
    message: 'recipients: internal never matches while exchange.internal is false (Exchange routes only mail to outside recipients through sigops); set exchange.internal: true or remove the condition',
  }]);
  assert.deepEqual(checkWhen({ recipients: 'external' }, { exchange: { internal: false } }), []);
});

test('recipients: internal contradicts recipientDomains outside the tenant (subdomains of its domains are inside)', () => {
  assert.deepEqual(checkWhen({ recipients: 'internal', recipientDomains: ['eu.contoso.com', 'partner.example', 'x.example'] }), [{
    severity: 'error', code: 'contradictory-condition', at: 'recipientDomains',
    message: "recipients: internal cannot hold for partner.example, x.example, outside this tenant's domains; the rule could never match — remove one of the two conditions",
  }]);
  assert.deepEqual(checkWhen({ recipients: 'internal', recipientDomains: 'contoso.co.uk' }), []);
});

test('recipients: internal = every recipient in the tenant domains, external = at least one outside', () => {
  assert.equal(matches({ recipients: 'internal' }, message({ recipients: ['b@contoso.com', 'c@CONTOSO.CO.UK'] })), true);
  assert.equal(matches({ recipients: 'internal' }, message({ recipients: ['b@contoso.com', 'x@example.org'] })), false);
  assert.equal(matches({ recipients: 'internal' }, message({ recipients: [] })), false);
  assert.equal(matches({ recipients: 'external' }, message({ recipients: ['b@contoso.com', 'x@example.org'] })), true);
  assert.equal(matches({ recipients: 'external' }, message({ recipients: ['b@contoso.com'] })), false);
  assert.equal(matches({ recipients: 'any' }, message({ recipients: [] })), true);
});

test('recipients: the preview writes to a colleague for internal', () => {
  const start = { internalRecipient: false, date: new Date(0), preferredSenders: [] };
  assert.equal(CONDITIONS.sample(CONDITIONS.read({ recipients: 'internal' }), start).internalRecipient, true);
  assert.equal(CONDITIONS.sample(CONDITIONS.read({ recipients: 'external' }), start).internalRecipient, false);
});
