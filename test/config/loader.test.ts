// Loader behaviour beyond single error cases: graph snapshots, symbolic links, model details.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigRepo } from '../../src/config/index.ts';

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-loader-'));
  cpSync(resolve('test/fixtures/configs/directory-missing'), dir, { recursive: true });
  mkdirSync(join(dir, 'directory'), { recursive: true }); // git keeps no empty folders: a fresh clone has none
  rmSync(join(dir, 'expected.txt'));
  return dir;
}

const graphTenant = (snapshot?: string) =>
  readFileSync(resolve('test/fixtures/configs/directory-missing/tenants/acme.yaml'), 'utf8').replace(
    'directory:\n  source: file\n  file: directory/acme.yaml\n',
    `directory:\n  source: graph\n${snapshot ? `  snapshot: ${snapshot}\n` : ''}`,
  );

test('graph source without a snapshot yet: a warning, and senders get an empty directory', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'tenants', 'acme.yaml'), graphTenant());
    const r = await loadConfigRepo(dir);
    assert.ok(r.ok);
    assert.deepEqual(r.warnings.map((w) => `${w.file}:${w.line}:${w.col} ${w.code}`), ['tenants/acme.yaml:9:3 snapshot-missing']);
    assert.match(r.warnings[0]!.message, /sigops directory sync --tenant acme/);
    assert.deepEqual(r.config.tenants[0]!.directory, { source: 'graph', snapshot: 'directory/acme.graph.yaml' });
    assert.equal(r.config.directories.get('acme')?.users.size, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('graph source with a snapshot: read like a directory file', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'tenants', 'acme.yaml'), graphTenant('directory/acme-graph.yaml'));
    writeFileSync(join(dir, 'directory', 'acme-graph.yaml'),
      'syncedAt: 2026-11-20T10:00:00Z\nusers:\n  - email: Ann@Acme.example\n    displayName: Ann\n    costCenter: 4711\n    memberOf: [All@acme.example]\n');
    const r = await loadConfigRepo(dir);
    assert.deepEqual(r.ok ? [] : r.errors, []);
    assert.ok(r.ok);
    const ann = r.config.directories.get('acme')?.users.get('ann@acme.example');
    assert.deepEqual(ann?.memberOf, ['all@acme.example']);
    assert.equal(ann?.attributes.costCenter, '4711');
    assert.equal(Object.getPrototypeOf(ann?.attributes), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory file that is a symbolic link out of the repository is refused', async () => {
  const dir = scratch();
  const outside = mkdtempSync(join(tmpdir(), 'sigops-outside-'));
  try {
    writeFileSync(join(outside, 'secret.yaml'), 'users: []\n');
    symlinkSync(join(outside, 'secret.yaml'), join(dir, 'directory', 'acme.yaml'));
    const r = await loadConfigRepo(dir);
    assert.deepEqual((r.ok ? [] : r.errors).map((e) => `${e.file}:${e.line}:${e.col} ${e.code}`), ['tenants/acme.yaml:10:9 directory-missing']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('two tenants may share one directory file; the model is frozen', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'directory', 'acme.yaml'), 'users:\n  - email: ann@acme.example\n  - email: bo@beta.example\n');
    const beta = readFileSync(join(dir, 'tenants', 'acme.yaml'), 'utf8')
      .replace('11111111-2222-3333-4444-555555555555', '22222222-2222-3333-4444-555555555555')
      .replace('[acme.example]', '[beta.example]')
      .replace('relay.acme.example', 'relay.beta.example');
    writeFileSync(join(dir, 'tenants', 'beta.yaml'), beta);
    const r = await loadConfigRepo(dir);
    assert.ok(r.ok);
    assert.deepEqual(r.warnings.map((w) => `${w.file}:${w.line}:${w.col} ${w.code}`), [
      'directory/acme.yaml:2:12 user-outside-domains', // ann, seen from tenant beta
      'directory/acme.yaml:3:12 user-outside-domains', // bo, seen from tenant acme
    ]);
    const acme = r.config.tenants[0]!;
    assert.ok(Object.isFrozen(acme) && Object.isFrozen(acme.rules) && Object.isFrozen(acme.rules[0]!.when));
    assert.equal(r.config.directories.get('acme'), r.config.directories.get('beta'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
