// Hostile or broken input: always a clear diagnostic, never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import {
  ConfigError, ConfigInvalidError, formatDiagnostics, loadConfigRepo, loadValidConfig, type ConfigDiagnostic, type LoadResult,
} from '../../src/config/index.ts';

const BASE = resolve('test/fixtures/configs/directory-missing'); // a repo whose only problem is the missing directory file

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-config-'));
  cpSync(BASE, dir, { recursive: true });
  mkdirSync(join(dir, 'directory'), { recursive: true }); // git keeps no empty folders: a fresh clone has none
  rmSync(join(dir, 'expected.txt'));
  writeFileSync(join(dir, 'directory', 'acme.yaml'), 'users:\n  - email: ann@acme.example\n    displayName: Ann\n');
  return dir;
}

function errorsOf(r: LoadResult): string[] {
  return (r.ok ? [] : r.errors).map((e: ConfigDiagnostic) => `${e.file}:${e.line}:${e.col} ${e.code}`);
}

test('the scratch base is valid', async () => {
  const dir = scratch();
  try {
    const r = await loadConfigRepo(dir);
    assert.deepEqual(errorsOf(r), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tenant file over 1 MB is refused before it is read', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'tenants', 'big.yaml'), `name: x\n# ${'x'.repeat(1024 * 1024)}\n`);
    const r = await loadConfigRepo(dir);
    assert.deepEqual(errorsOf(r), ['tenants/big.yaml:1:1 file-too-large']);
    assert.match(r.ok ? '' : r.errors[0]!.message, /over the limit of 1048576 bytes \(1 MB\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a template over 1 MB is refused too; a directory file may be larger', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'templates', 'basic.html.hbs'), `<p>{{user.displayName}}</p>${' '.repeat(1024 * 1024)}`);
    let users = 'users:\n';
    for (let i = 0; i < 12000; i++) users += `  - email: user${i}@acme.example\n    displayName: User number ${i} of the big directory\n    department: Department ${i % 17}\n`;
    assert.ok(users.length > 1024 * 1024);
    writeFileSync(join(dir, 'directory', 'acme.yaml'), users);
    const r = await loadConfigRepo(dir);
    assert.deepEqual(errorsOf(r), ['templates/basic.html.hbs:1:1 file-too-large']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('UTF-16 and invalid UTF-8 in templates are named as such', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'tenants', 'wide.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name: x\n', 'utf16le')]));
    writeFileSync(join(dir, 'templates', 'basic.html.hbs'), Buffer.from('<p>ok</p>\n<p>caf\xe9</p>', 'latin1'));
    const r = await loadConfigRepo(dir);
    assert.deepEqual(errorsOf(r), ['templates/basic.html.hbs:2:7 not-utf8', 'tenants/wide.yaml:1:1 not-utf8']);
    assert.match(r.ok ? '' : r.errors[1]!.message, /UTF-16; save it as UTF-8/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an alias bomb of a billion nodes is refused quickly', async () => {
  const dir = scratch();
  try {
    let y = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++) y += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    writeFileSync(join(dir, 'tenants', 'bomb.yaml'), y);
    const r = await loadConfigRepo(dir);
    assert.deepEqual(errorsOf(r), ['tenants/bomb.yaml:2:10 yaml-alias-limit']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deeply nested YAML is refused before any parser recurses into it', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'tenants', 'deep.yaml'), `name: ${'['.repeat(200_000)}`);
    writeFileSync(join(dir, 'tenants', 'deep2.yaml'), `name: x\nrules:\n  ${'- '.repeat(100_000)}x\n`);
    let indented = '';
    for (let i = 0; i < 100; i++) indented += `${' '.repeat(i)}k${i}:\n`;
    writeFileSync(join(dir, 'directory', 'acme.yaml'), indented);
    const r = await loadConfigRepo(dir);
    assert.deepEqual(errorsOf(r), [
      'directory/acme.yaml:65:65 yaml-too-deep',
      'tenants/deep.yaml:1:70 yaml-too-deep',
      'tenants/deep2.yaml:3:127 yaml-too-deep',
    ]);
    assert.match(r.ok ? '' : r.errors[0]!.message, /more than 64 levels deep/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('__proto__ keys in YAML do not pollute prototypes and are reported as unknown keys', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'tenants', 'proto.yaml'), '__proto__: { isAdmin: true }\nconstructor: { prototype: { isAdmin: true } }\n');
    const r = await loadConfigRepo(dir);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    const proto = (r.ok ? [] : r.errors).filter((e) => e.file === 'tenants/proto.yaml' && e.code === 'unknown-key');
    assert.deepEqual(proto.map((e) => `${e.line}:${e.col}`), ['1:1', '2:1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('arbitrary bytes as a tenant file or template never make the loader throw', async () => {
  const dir = scratch();
  try {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.string({ maxLength: 200 }), async (bytes, tpl) => {
        writeFileSync(join(dir, 'tenants', 'fuzz.yaml'), bytes);
        writeFileSync(join(dir, 'templates', 'fuzz.html.hbs'), tpl);
        const r = await loadConfigRepo(dir);
        for (const d of [...(r.ok ? [] : r.errors), ...r.warnings]) {
          assert.ok(Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.col) && d.col >= 1);
          assert.ok(d.message.length > 0);
        }
      }),
      { numRuns: 60 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing config directory is one clear error; loadValidConfig throws all errors typed', async () => {
  const r = await loadConfigRepo('/nonexistent/sigops-config');
  assert.deepEqual(errorsOf(r), ['.:1:1 config-missing']);
  await assert.rejects(loadValidConfig(resolve('test/fixtures/configs/dates')), (err: unknown) => {
    assert.ok(err instanceof ConfigInvalidError);
    assert.equal(err.errors.length, 2);
    assert.ok(err.errors.every((e) => e instanceof ConfigError));
    assert.match(err.message, /2 error\(s\); first: tenants\/acme\.yaml:14:24:/);
    return true;
  });
});

test('formats: github annotations with paths relative to the working directory, json document', () => {
  const errors = [new ConfigError('tenants/a.yaml', 3, 5, 'unknown-key', "unknown key 'x': 50% done,\nnext")];
  const warnings = [new ConfigError('templates/t.html.hbs', 1, 1, 'unused-template', 'unused')];
  assert.equal(
    formatDiagnostics(errors, warnings, 'github', { root: '/w/repo/config', cwd: '/w/repo' }),
    "::warning file=config/templates/t.html.hbs,line=1,col=1,title=sigops unused-template::unused\n" +
      "::error file=config/tenants/a.yaml,line=3,col=5,title=sigops unknown-key::unknown key 'x': 50%25 done,%0Anext\n",
  );
  const json = JSON.parse(formatDiagnostics(errors, [], 'json', { root: '/w/repo/config', cwd: '/w/repo' })) as unknown;
  assert.deepEqual(json, {
    valid: false,
    errors: [{ file: 'config/tenants/a.yaml', line: 3, col: 5, code: 'unknown-key', severity: 'error', message: "unknown key 'x': 50% done,\nnext" }],
    warnings: [],
  });
  assert.equal(formatDiagnostics([], [], 'text'), 'config is valid (0 warnings)\n');
});
