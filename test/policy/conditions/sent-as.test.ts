// The `sentAs` condition: read, bad values in YAML with their positions, match and sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { formatDiagnostics, loadConfigRepo } from '../../../src/config/index.ts';
import { CONDITIONS, sentAs } from '../../../src/policy/conditions/index.ts';
import { matches, message } from './helpers.ts';
import { exampleWithRule } from './yaml.ts';

test('sentAs: one way or a list, each once; unknown values and wrong types dropped', () => {
  assert.deepEqual(sentAs.read('onBehalf'), ['onBehalf']);
  assert.deepEqual(sentAs.read(['shared', 'self', 'shared', 'delegate', null]), ['shared', 'self']);
  assert.equal(sentAs.read('onbehalf'), undefined); // the schema reports it
  assert.equal(sentAs.read({}), undefined);
});

test('sentAs: the message must be sent one of the listed ways; all three constrain nothing', () => {
  assert.equal(matches({ sentAs: 'shared' }, message({ sentAs: 'shared' })), true);
  assert.equal(matches({ sentAs: 'shared' }, message({ sentAs: 'self' })), false);
  assert.equal(matches({ sentAs: ['self', 'onBehalf'] }, message({ sentAs: 'onBehalf' })), true);
  assert.equal(matches({ sentAs: ['self', 'onBehalf'] }, message({ sentAs: 'shared' })), false);
  assert.equal(CONDITIONS.constrains(CONDITIONS.read({ sentAs: ['self', 'shared', 'onBehalf'] })), false);
});

test('sentAs: the preview samples the first listed way', () => {
  const start = { internalRecipient: false, date: new Date(0), preferredSenders: [] };
  assert.equal(CONDITIONS.sample(CONDITIONS.read({ sentAs: ['onBehalf', 'self'] }), start).sentAs, 'onBehalf');
});

test('sentAs in YAML: bad values reported at the item with file:line:col', async () => {
  const good = exampleWithRule('team', ['sentAs: [shared, onBehalf]']);
  const bad = exampleWithRule('team', ['sentAs: [self, delegate]']);
  try {
    const r = await loadConfigRepo(good.dir);
    assert.deepEqual(r.ok ? [] : r.errors, []);
    assert.ok(r.ok);
    assert.deepEqual(r.config.tenants.find((t) => t.slug === 'contoso')!.rules[0]!.when, { sentAs: ['shared', 'onBehalf'] });
    const b = await loadConfigRepo(bad.dir);
    assert.ok(!b.ok);
    assert.equal(formatDiagnostics(b.errors, [], 'text').split('\n')[0],
      `tenants/contoso.yaml:${bad.lineOf('sentAs: [self, delegate]')}:22: error: rules[0].when.sentAs[1] must be one of self, shared, onBehalf, not 'delegate' [invalid-value]`);
  } finally {
    rmSync(good.dir, { recursive: true, force: true });
    rmSync(bad.dir, { recursive: true, force: true });
  }
});
