// A pull request that changes an image under images/ changes every rule whose templates show it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadValidConfig } from '../../src/config/index.ts';
import { changedRules } from '../../src/github/changes.ts';

test('an image changed: the rules whose templates show it are listed, no others', async () => {
  const { config } = await loadValidConfig('example-config');
  const rules = await changedRules(config, '.', [{ filename: 'images/contoso-logo.png', status: 'modified' }], async () => undefined);
  assert.deepEqual(rules, [{ tenant: 'contoso', rule: 'board', why: 'template `executive` changed' }]);
  assert.deepEqual(await changedRules(config, '.', [{ filename: 'images/other.png', status: 'added' }], async () => undefined), []);
});
