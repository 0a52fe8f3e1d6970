// The `memberOf` condition: read, check, match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memberOf } from '../../../src/policy/conditions/index.ts';
import { ALICE, checkWhen, matches, message } from './helpers.ts';

test('memberOf: one group or a list, lower-cased', () => {
  assert.deepEqual(memberOf.read('Sales@Contoso.com'), ['sales@contoso.com']);
  assert.deepEqual(memberOf.read(['a@contoso.com', null]), ['a@contoso.com']);
  assert.equal(memberOf.read({ group: 'x' }), undefined);
});

test('memberOf: a group no directory user is in is a warning, only when the directory has users', () => {
  const directory = { users: 2, groups: new Set(['sales@contoso.com', 'board@contoso.com']) };
  assert.deepEqual(checkWhen({ memberOf: ['board@contoso.com', 'sale@contoso.com'] }, { directory }), [{
    severity: 'warning', code: 'unknown-group', at: 'memberOf.1',
    message: "no directory user is a member of sale@contoso.com (did you mean 'sales@contoso.com'?); the condition matches nobody yet",
  }]);
  assert.deepEqual(checkWhen({ memberOf: 'nobody@contoso.com' }, { directory }).map((r) => r.at), ['memberOf']);
  assert.deepEqual(checkWhen({ memberOf: ['nobody@contoso.com'] }, { directory: { users: 0, groups: new Set() } }), []);
  assert.deepEqual(checkWhen({ memberOf: ['nobody@contoso.com'] }), []);
});

test('memberOf: the directory user must be in one of the groups; senders not in the directory never are', () => {
  assert.equal(matches({ memberOf: ['x@contoso.com', 'SALES@contoso.com'] }, message({ user: ALICE })), true);
  assert.equal(matches({ memberOf: ['x@contoso.com'] }, message({ user: ALICE })), false);
  assert.equal(matches({ memberOf: ['sales@contoso.com'] }, message()), false);
});
