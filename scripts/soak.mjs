#!/usr/bin/env node
// Runs the reliability suite (test/reliability/) at full length, one file at a time so the soak
// has the machine to itself, and prints the figures each case recorded as Markdown tables.
// --write puts them into RELIABILITY.md, each table between its markers
// (<!-- reliability:NAME --> … <!-- /reliability:NAME -->), as bench does with bench/results.
//
// Usage: npm run soak [-- --write] [-- --short] [-- <substring filter on the path>]
//   --short   the short form npm test runs (each case once), figures printed, never written
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const write = args.includes('--write');
const short = args.includes('--short');
const filters = args.filter((a) => !a.startsWith('--'));
if (write && short) {
  console.error('--write records full-length figures only; leave out --short');
  process.exit(2);
}

const dir = join('test', 'reliability');
const files = readdirSync(dir)
  .filter((n) => n.endsWith('.test.ts'))
  .sort()
  .map((n) => join(dir, n))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'sigops-soak-'));
const report = join(tmp, 'figures.jsonl');
const started = Date.now();
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=1800000', ...files],
  { stdio: 'inherit', env: { ...process.env, SIGOPS_RELIABILITY: short ? 'short' : 'full', SIGOPS_RELIABILITY_REPORT: report } },
);
const minutes = ((Date.now() - started) / 60_000).toFixed(1);

/** @type {Map<string, Array<Record<string, string | number>>>} */
const tables = new Map();
if (existsSync(report)) {
  for (const line of readFileSync(report, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { table, row } = JSON.parse(line);
    if (!tables.has(table)) tables.set(table, []);
    tables.get(table).push(row);
  }
}
rmSync(tmp, { recursive: true, force: true });

const cell = (v) => String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');
function markdown(rows) {
  const columns = [];
  for (const row of rows) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
  const numeric = columns.map((c) => rows.every((row) => typeof row[c] === 'number' || row[c] === undefined));
  return [
    `| ${columns.map(cell).join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${columns.map((c) => cell(row[c] ?? '')).join(' | ')} |`),
  ].join('\n');
}

const stamp = `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
const command = short ? 'npm run soak -- --short' : `npm run soak${filters.length ? ` -- ${filters.join(' ')}` : ''}`;
let out = '';
for (const [name, rows] of tables) {
  out += `\n### ${name}\n\n`;
  out += `\`${command}\` (${stamp}; the whole run took ${minutes} min)\n\n${markdown(rows)}\n`;
}
process.stdout.write(out || '\nno figures were recorded\n');

if (write) {
  if (r.status !== 0) {
    console.error('\nRELIABILITY.md not written: the suite failed');
  } else {
    let doc = readFileSync('RELIABILITY.md', 'utf8');
    for (const [name, rows] of tables) {
      const open = `<!-- reliability:${name} -->`;
      const close = `<!-- /reliability:${name} -->`;
      const a = doc.indexOf(open);
      const b = doc.indexOf(close);
      if (a < 0 || b < a) {
        console.error(`RELIABILITY.md has no markers for "${name}" (${open} … ${close}); left out`);
        continue;
      }
      const body = `\`npm run soak -- --write\` (${stamp}; the whole run took ${minutes} min)\n\n${markdown(rows)}\n`;
      doc = `${doc.slice(0, a + open.length)}\n${body}${doc.slice(b)}`;
    }
    writeFileSync('RELIABILITY.md', doc);
    console.error('\nRELIABILITY.md updated');
  }
}
process.exit(r.status ?? 1);
