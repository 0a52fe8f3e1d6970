// One invalid config repository per error case under test/fixtures/configs/<case>/, each with
// the exact diagnostics it must produce (expected.txt, in `sigops validate` text form, paths
// relative to the repository).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatDiagnostics, loadConfigRepo } from '../../src/config/index.ts';

const FIXTURES = resolve('test/fixtures/configs');

for (const name of readdirSync(FIXTURES).sort()) {
  const root = join(FIXTURES, name);
  test(`fixture ${name}: exact diagnostics`, async () => {
    const expected = readFileSync(join(root, 'expected.txt'), 'utf8');
    const r = await loadConfigRepo(root);
    const actual = formatDiagnostics(r.ok ? [] : r.errors, r.warnings, 'text', { root, cwd: root });
    assert.equal(actual, expected);
    // Only the `warnings` case is a valid repository; every other one must be refused.
    assert.equal(r.ok, name === 'warnings');
    for (const d of r.ok ? [] : r.errors) {
      assert.ok(d.line >= 1 && d.col >= 1, `${d.file}:${d.line}:${d.col}`);
      assert.match(d.code, /^[a-z0-9-]+$/);
    }
  });
}
