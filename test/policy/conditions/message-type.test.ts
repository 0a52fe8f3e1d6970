// The `messageType` condition: read, bad values in YAML with their positions, match and sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { formatDiagnostics, loadConfigRepo } from '../../../src/config/index.ts';
import { compilePolicy } from '../../../src/policy/index.ts';
import { CONDITIONS, messageType } from '../../../src/policy/conditions/index.ts';
import { matches, message } from './helpers.ts';
import { exampleWithRule } from './yaml.ts';

test('messageType: one type or a list, each once; unknown values and wrong types dropped', () => {
  assert.deepEqual(messageType.read('reply'), ['reply']);
  assert.deepEqual(messageType.read(['reply', 'forward', 'reply', 7, 'answer']), ['reply', 'forward']);
  assert.equal(messageType.read('Reply'), undefined); // the schema reports it
  assert.equal(messageType.read(42), undefined);
  assert.deepEqual(CONDITIONS.read({ messageType: ['new'] }).messageType, ['new']);
});

test('messageType: the message must be one of the listed types; all three constrain nothing', () => {
  const short = { messageType: ['reply', 'forward'] };
  assert.equal(matches(short, message({ messageType: 'reply' })), true);
  assert.equal(matches(short, message({ messageType: 'forward' })), true);
  assert.equal(matches(short, message({ messageType: 'new' })), false);
  assert.equal(matches({ messageType: 'new' }, message()), true); // the helper's message is new
  assert.equal(matches({ messageType: 'forward' }, message({ messageType: 'reply' })), false);
  const all = CONDITIONS.read({ messageType: ['new', 'reply', 'forward'] });
  assert.equal(CONDITIONS.constrains(all), false);
  assert.deepEqual(CONDITIONS.compile(all), []);
  assert.equal(CONDITIONS.constrains(CONDITIONS.read(short)), true);
});

test('messageType: the preview shows the first listed type', () => {
  const start = { internalRecipient: false, date: new Date(0), preferredSenders: [] };
  assert.equal(CONDITIONS.sample(CONDITIONS.read({ messageType: ['forward', 'reply'] }), start).messageType, 'forward');
  assert.equal(CONDITIONS.sample(CONDITIONS.read({}), start).messageType, undefined);
});

test('messageType in YAML: read by the loader, bad values reported at the item with file:line:col', async () => {
  const good = exampleWithRule('short-replies', ['messageType: [reply, forward]']);
  try {
    const r = await loadConfigRepo(good.dir);
    assert.deepEqual(r.ok ? [] : r.errors, []);
    assert.ok(r.ok);
    const contoso = compilePolicy(r.config).tenantForDomain('contoso.com')!;
    const ruleFor = (type?: 'new' | 'reply' | 'forward') => {
      const d = contoso.decide({ sender: 'bob@contoso.com', recipients: ['x@example.org'], now: new Date('2026-06-15T12:00:00Z'), ...(type ? { messageType: type } : {}) });
      return d.kind === 'sign' ? d.rule : d.reason;
    };
    assert.equal(ruleFor('reply'), 'short-replies');
    assert.equal(ruleFor('forward'), 'short-replies');
    assert.equal(ruleFor('new'), 'default');
    assert.equal(ruleFor(), 'default');
  } finally {
    rmSync(good.dir, { recursive: true, force: true });
  }
  const bad = exampleWithRule('bad', ['messageType: [reply, answer]']);
  const single = exampleWithRule('bad', ['messageType: Reply']);
  try {
    const line = bad.lineOf('messageType: [reply, answer]');
    const r = await loadConfigRepo(bad.dir);
    assert.ok(!r.ok);
    assert.equal(formatDiagnostics(r.errors, [], 'text').split('\n')[0],
      `tenants/contoso.yaml:${line}:28: error: rules[0].when.messageType[1] must be one of new, reply, forward, not 'answer' [invalid-value]`);
    const s = await loadConfigRepo(single.dir);
    assert.ok(!s.ok);
    assert.deepEqual(s.errors.map((e) => `${e.line}:${e.col} ${e.code}`), [`${single.lineOf('messageType: Reply')}:20 invalid-value`]);
    assert.match(s.errors[0]!.message, /must be one of new, reply, forward, not 'Reply'/);
  } finally {
    rmSync(bad.dir, { recursive: true, force: true });
    rmSync(single.dir, { recursive: true, force: true });
  }
});
