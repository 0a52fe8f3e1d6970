// The committed github-action/dist/index.mjs must be exactly what the build makes from the
// current sources (GitHub runs the committed file, never builds it), must need nothing but
// Node, and must stay a reasonable size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAction } from '../../scripts/build-action.mjs';

const COMMITTED = 'github-action/dist/index.mjs';

test('the committed bundle is up to date (run `npm run build:action` when this fails)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-bundle-'));
  try {
    const out = join(dir, 'index.mjs');
    await buildAction(out);
    const fresh = readFileSync(out);
    const committed = readFileSync(COMMITTED);
    assert.ok(
      fresh.equals(committed),
      `${COMMITTED} is stale (${committed.length} bytes committed, ${fresh.length} built): run \`npm run build:action\` and commit it`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundle imports nothing but Node built-ins and stays small', () => {
  const text = readFileSync(COMMITTED, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|[;\s])import\s*(?:[\w{}\s,*$]+from\s*)?["']([^"']+)["']/g)].map((m) => m[1]!);
  const foreign = specifiers.filter((s) => !s.startsWith('node:') && !/^(fs|path|os|crypto|http|https|url|util|stream|events|child_process|net|tls|zlib|buffer|module|assert|string_decoder|querystring|worker_threads|process|timers)(\/|$)/.test(s));
  assert.ok(specifiers.includes('node:module'), 'the scan sees the createRequire banner import');
  assert.deepEqual(foreign, [], 'static imports of packages would need node_modules on the runner');
  // A lazy import() of a package would only fail when its code path runs on the runner.
  const lazy = [...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!).filter((s) => !s.startsWith('node:'));
  assert.deepEqual(lazy, []);
  const size = statSync(COMMITTED).size;
  assert.ok(size < 3 * 1024 * 1024, `bundle is ${size} bytes; over 3 MiB means something heavy slipped in`);
});

test('the bundle starts with no node_modules around it (GitHub runs it from the action checkout)', () => {
  // GitHub downloads the action's repository (no node_modules) and runs `node github-action/dist/index.mjs`.
  const dir = mkdtempSync(join(tmpdir(), 'sigops-action-'));
  try {
    mkdirSync(join(dir, 'github-action/dist'), { recursive: true });
    cpSync(COMMITTED, join(dir, COMMITTED));
    writeFileSync(join(dir, 'event.json'), '{}');
    const r = spawnSync(process.execPath, [join(dir, COMMITTED)], {
      cwd: dir,
      env: { PATH: process.env.PATH, GITHUB_REPOSITORY: 'acme/signatures', GITHUB_EVENT_PATH: join(dir, 'event.json') },
      encoding: 'utf8',
    });
    // Every bundled module is evaluated at start-up, so a missing dependency fails here, before
    // the action even reads its environment.
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^::error::sigops: GITHUB_EVENT_NAME is not set/m);
    assert.doesNotMatch(r.stderr, /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
