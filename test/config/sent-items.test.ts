// `sentItems:` in a tenant file: on with a management scope, or with `unscoped: true` said in so
// many words; neither (or both) is a config error, so the update never runs unscoped by accident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigRepo } from '../../src/config/index.ts';

async function load(sentItems: string): Promise<Awaited<ReturnType<typeof loadConfigRepo>>> {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-sent-items-'));
  try {
    cpSync(resolve('test/fixtures/configs/directory-missing'), dir, { recursive: true });
    mkdirSync(join(dir, 'directory'), { recursive: true });
    rmSync(join(dir, 'expected.txt'));
    writeFileSync(join(dir, 'directory', 'acme.yaml'), 'users: []\n');
    const file = join(dir, 'tenants', 'acme.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('rules:', `${sentItems}\nrules:`));
    return await loadConfigRepo(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sentItems with a scope, or said to be unscoped, is on', async () => {
  const scoped = await load('sentItems:\n  update: true\n  scope: sigops sent items');
  assert.ok(scoped.ok, JSON.stringify(scoped.ok ? '' : scoped.errors));
  assert.deepEqual(scoped.config.tenants[0]!.sentItems, { update: true, scope: 'sigops sent items' });
  const unscoped = await load('sentItems: { update: true, unscoped: true }');
  assert.ok(unscoped.ok);
  assert.deepEqual(unscoped.config.tenants[0]!.sentItems, { update: true, unscoped: true });
  const off = await load('sentItems: { update: false }');
  assert.ok(off.ok);
  assert.equal(off.config.tenants[0]!.sentItems, undefined);
});

test('sentItems without a scope and without unscoped: true is refused, and so are both', async () => {
  const r = await load('sentItems: { update: true }');
  assert.deepEqual(!r.ok && r.errors.map((e) => e.code), ['sent-items-unscoped']);
  for (const bad of ['sentItems: { update: true }', 'sentItems: { update: true, unscoped: false }', 'sentItems: { update: true, scope: s, unscoped: true }']) {
    const r = await load(bad);
    assert.equal(r.ok, false, bad);
    assert.ok(!r.ok && r.errors.some((e) => e.file === 'tenants/acme.yaml' && /sentItems|sent-items/.test(`${e.message} ${e.code}`)), `${bad}: ${JSON.stringify(!r.ok && r.errors)}`);
  }
});
