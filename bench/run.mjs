#!/usr/bin/env node
// Runs every benchmark one after the other (they must not overlap: each measures against a
// baseline in the same run, and two at once on a 2-core machine would disturb both).
// Usage: npm run bench [-- --write]   (--write records bench/results/*.md)
import { spawnSync } from 'node:child_process';

const extra = process.argv.slice(2);
let failed = 0;
for (const name of ['config', 'sign', 'relay', 'directory']) {
  process.stdout.write(`\n=== bench:${name} ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...extra], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
