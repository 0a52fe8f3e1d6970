// Directory attribute conditions: every key under `when:` no other condition claims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributes, CONDITIONS } from '../../../src/policy/conditions/index.ts';
import { ALICE, checkWhen, matches, message } from './helpers.ts';

test('attributes: the keys no other condition claims, with valid attribute names only', () => {
  const when = CONDITIONS.read({ department: 'Sales', jobTitle: ['CEO', 3], senders: ['a@contoso.com'], 'bad key': ['x'], company: 7 });
  assert.deepEqual({ ...(when.attributes as object) }, { department: ['Sales'], jobTitle: ['CEO'] });
  assert.equal(Object.getPrototypeOf(when.attributes), null);
  assert.deepEqual(when.senders, ['a@contoso.com']);
  assert.equal(CONDITIONS.read({ senders: ['a@contoso.com'] }).attributes, undefined);
  assert.equal(attributes.claims, 'other-keys');
});

test('attributes: an unknown attribute is an error at its key, listing the conditions and a close name', () => {
  assert.deepEqual(checkWhen({ departement: ['Sales'], recipients: 'external' }), [{
    severity: 'error', code: 'unknown-attribute', at: ':departement',
    message: "rule 'r': 'departement' is neither a condition (senders, memberOf, recipients, recipientDomains, between, messageType, sentAs) nor a directory attribute (did you mean 'department'?); fix the key or add the attribute to the directory",
  }]);
  assert.deepEqual(checkWhen({ costCenter: ['1'] }, { attributes: ['costCenter'] }), []);
});

test('attributes: every listed attribute must hold, one of its values, ignoring case', () => {
  const when = { department: ['Marketing', 'SALES'], displayName: ['alice'] };
  assert.equal(matches(when, message({ user: ALICE })), true);
  assert.equal(matches({ ...when, jobTitle: ['CEO'] }, message({ user: ALICE })), false);
  assert.equal(CONDITIONS.constrains({ attributes: {} }), false);
  assert.deepEqual(CONDITIONS.compile({ attributes: {} }), []);
});

test('attributes: a sender missing from the directory has only email and displayName (from the From header)', () => {
  const m = message({ sender: 'zoe@contoso.com', from: { address: 'zoe@contoso.com', name: 'Zoe' } });
  assert.equal(matches({ email: ['ZOE@contoso.com'], displayName: ['zoe'] }, m), true);
  assert.equal(matches({ department: ['Sales'] }, m), false);
  assert.equal(matches({ displayName: ['zoe'] }, message({ sender: 'zoe@contoso.com' })), false);
});
