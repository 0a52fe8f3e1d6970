// The registry of rule conditions: its order, its agreement with the tenant schema, and what it
// does for a rule as a whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMAS } from '../../../src/config/schema.ts';
import {
  attributes, between, CONDITIONS, ConditionRegistry, memberOf, recipientDomains, recipients, senders, type Condition,
} from '../../../src/policy/conditions/index.ts';

const conditionSchema = (SCHEMAS.tenant as { $defs: { condition: { properties: Record<string, unknown>; patternProperties: Record<string, unknown> } } }).$defs.condition;

test('the conditions, in the order messages list them', () => {
  assert.deepEqual(CONDITIONS.keys, ['senders', 'memberOf', 'recipients', 'recipientDomains', 'between', 'messageType', 'sentAs']);
});

test('every condition has its entry in the tenant schema, and the attribute pattern leaves their keys alone', () => {
  assert.deepEqual(Object.keys(conditionSchema.properties), CONDITIONS.keys);
  const [pattern] = Object.keys(conditionSchema.patternProperties);
  const attribute = new RegExp(pattern!);
  for (const key of CONDITIONS.keys) assert.equal(attribute.test(key), false, key);
  assert.equal(attribute.test('department'), true);
});

test('a whole when: read into one record keyed by condition; no when: is no condition at all', () => {
  const when = CONDITIONS.read({
    department: ['Sales'], memberOf: 'Sales@contoso.com', recipients: 'external', recipientDomains: ['Fabrikam.com'],
    between: { from: '2026-12-01', until: '2027-01-06' }, senders: ['A@contoso.com'], messageType: ['reply', 'forward'], sentAs: 'onBehalf',
  });
  assert.deepEqual(JSON.parse(JSON.stringify(when)), {
    senders: ['a@contoso.com'], memberOf: ['sales@contoso.com'], recipients: 'external', recipientDomains: ['fabrikam.com'],
    between: { from: '2026-12-01', until: '2027-01-06' }, messageType: ['reply', 'forward'], sentAs: ['onBehalf'], attributes: { department: ['Sales'] },
  });
  assert.deepEqual(CONDITIONS.read(undefined), {});
  assert.equal(CONDITIONS.constrains({}), false);
  assert.deepEqual(CONDITIONS.compile({}), []);
  assert.equal(CONDITIONS.constrains(when), true);
  assert.equal(CONDITIONS.compile(when).length, 8);
});

test('each condition module names its key once; one condition at most claims the other keys', () => {
  const again: Condition<string> = { key: 'senders', read: () => 'x', compile: () => undefined };
  assert.throws(() => ConditionRegistry.of(senders, again), /same key/);
  const greedy: Condition<string> = { key: 'rest', claims: 'other-keys', read: () => 'x', compile: () => undefined };
  assert.throws(() => ConditionRegistry.of(attributes, greedy), /only one/);
  assert.doesNotThrow(() => ConditionRegistry.of(senders, memberOf, recipients, recipientDomains, between, attributes));
});

test("a rule's tests run cheapest first, ties in registry order, and stop at the first that fails", () => {
  const calls: string[] = [];
  const probe = (key: string, cost: 1 | 2 | 3 | 4, result: boolean): Condition<true> => ({
    key, cost, read: () => true, compile: () => () => { calls.push(key); return result; },
  });
  const registry = ConditionRegistry.of(probe('loop', 4, true), probe('lookup', 2, true), probe('field', 1, true), probe('other', 2, false));
  const tests = registry.compile(registry.read({ loop: 1, lookup: 1, field: 1, other: 1 }));
  assert.equal(tests.every((t) => t({ sender: 'a@b.c', user: undefined, sentAs: 'self', messageType: 'new', from: undefined, recipientDomains: [], allInternal: false, anyExternal: true, now: 0 })), false);
  assert.deepEqual(calls, ['field', 'lookup', 'other']);
});
