#!/usr/bin/env node
// Runs every test file under test/ with Node's own runner (tsx compiles TypeScript on the fly).
// Node 20 has no glob support in `--test`, so the files are listed here.
// Usage: npm test [-- <substring filter on the path>]
// test/container/ (builds and runs the container image, a minute or two) runs only when a filter
// names it: `npm run test:container`, its own step in CI.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'fixtures' || name === 'node_modules') continue;
      out.push(...walk(p));
    } else if (name.endsWith('.test.ts')) {
      out.push(p);
    }
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('test').filter((f) => (filters.length === 0 ? !f.startsWith(join('test', 'container')) : filters.some((x) => f.includes(x))));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.SIGOPS_TEST_CONCURRENCY ?? '2';
// a test file's time limit; the container image test builds an image first
const timeout = files.some((f) => f.startsWith(join('test', 'container'))) ? 900_000 : 120_000;
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeout}`, ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
