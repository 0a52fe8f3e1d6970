#!/usr/bin/env node
// What the placement fixture set (test/fixtures/placement/) covers, as Markdown tables read from
// the file names: client × format with the languages, and language × client. With --check it also
// signs every fixture through the engine and reports pass/fail per fixture, with the failures
// grouped by how the engine missed (signature too early, inside/after the quote header, or no
// quote found at all), so a recogniser change can be judged fixture by fixture.
//
// Usage: node scripts/placement-coverage.mjs            (coverage tables)
//        node scripts/placement-coverage.mjs --check    (adds pass/fail; re-runs itself under tsx)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'placement');
const check = process.argv.includes('--check');

// The --check pass imports the TypeScript helpers of the fixture test, which needs tsx loaded.
if (check && !process.env.SIGOPS_COVERAGE_TSX) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SIGOPS_COVERAGE_TSX: '1' },
  });
  process.exit(r.status ?? 1);
}

/** Same reading of a name as test/mime/placement-fixtures.ts: <client>/<language>[-<variant>].<txt|html>. */
function parse(name) {
  const [client = '', file = ''] = name.split('/').slice(-2);
  const m = /^([a-z]{2,3}(?:-(?:[A-Z]{2}|[A-Z][a-z]{3}|\d{3}))?)(?:[-_](.+))?\.(txt|html)$/.exec(file);
  if (!m) throw new Error(`${name}: not named <language>[-<variant>].<txt|html>`);
  return { name, client, language: m[1], variant: m[2], format: m[3] === 'html' ? 'html' : 'text' };
}

function walk(dir) {
  const out = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(txt|html)$/.test(n)) out.push(parse(relative(FIXTURES, p)));
  }
  return out;
}

const files = walk(FIXTURES);
const by = (list, key) => {
  const m = new Map();
  for (const f of list) m.set(key(f), [...(m.get(key(f)) ?? []), f]);
  return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
};
const langs = (list) => [...new Set(list.map((f) => f.language))].sort().join(', ');

let passed;
if (check) passed = await runChecks(files);

const lines = [];
lines.push(`${files.length} fixtures: ${files.filter((f) => f.format === 'text').length} plain text, ${files.filter((f) => f.format === 'html').length} HTML, ${by(files, (f) => f.client).size} clients, ${by(files, (f) => f.language).size} languages.`);
lines.push('');
lines.push(`| client | text | HTML | languages (text) | languages (HTML) |${check ? ' pass |' : ''}`);
lines.push(`|---|---:|---:|---|---|${check ? '---:|' : ''}`);
for (const [client, list] of by(files, (f) => f.client)) {
  const text = list.filter((f) => f.format === 'text');
  const html = list.filter((f) => f.format === 'html');
  const pass = check ? ` ${list.filter((f) => passed.get(f.name)?.ok).length}/${list.length} |` : '';
  lines.push(`| ${client} | ${text.length} | ${html.length} | ${langs(text)} | ${langs(html)} |${pass}`);
}
lines.push('');
lines.push(`| language | fixtures | clients |${check ? ' pass |' : ''}`);
lines.push(`|---|---:|---|${check ? '---:|' : ''}`);
for (const [language, list] of by(files, (f) => f.language)) {
  const clients = [...new Set(list.map((f) => f.client))].sort().join(', ');
  const pass = check ? ` ${list.filter((f) => passed.get(f.name)?.ok).length}/${list.length} |` : '';
  lines.push(`| ${language} | ${list.length} | ${clients} |${pass}`);
}

if (check) {
  const fails = files.filter((f) => !passed.get(f.name).ok);
  lines.push('');
  lines.push(`Placement against the current recogniser: ${files.length - fails.length}/${files.length} right.`);
  for (const [kind, list] of by(fails, (f) => passed.get(f.name).kind)) {
    lines.push('');
    lines.push(`**${kind}** (${list.length})`);
    lines.push('');
    for (const f of list) lines.push(`- ${f.name}: placed before ${JSON.stringify(passed.get(f.name).before)}`);
  }
}
console.log(lines.join('\n'));

/** Signs every fixture; per name whether the spot is right and, if not, how it was missed. */
async function runChecks(list) {
  const { placementFixtures, placedAt, visibleBetween } = await import('../test/mime/placement-fixtures.ts');
  const all = new Map(placementFixtures().map((f) => [f.name, f]));
  const out = new Map();
  for (const { name } of list) {
    const f = all.get(name);
    const at = await placedAt(f);
    const ok = visibleBetween(f, at) === '';
    const atEnd = visibleBetween({ ...f, expected: f.body.length }, at) === '';
    const kind = ok
      ? 'right'
      : at < f.expected
        ? 'too early: inside the newest text (a quote seen where there is none, or too high)'
        : atEnd
          ? 'no quote found: the signature went to the end'
          : 'too late: after the start of the quote header (part of the header or the quote not recognised)';
    out.set(name, { ok, kind, before: f.body.slice(at, at + 70) });
  }
  return out;
}
