// Keeps docs/architecture.md true: the top-level folders of src/ never import each other round
// a loop, every folder is described there, and every file it tells a contributor to touch exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|mjs)$/.test(name) ? [p] : [];
  });
}

/** Folder → the other top-level folders of src/ it imports from. */
function folderImports(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of sourceFiles('src')) {
    const from = relative('src', file).split('/')[0]!;
    if (!edges.has(from)) edges.set(from, new Set());
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = relative('src', resolve(dirname(file), m[1]!)).split('/')[0]!;
      if (to !== from && !to.startsWith('..') && statSync(join('src', to)).isDirectory()) edges.get(from)!.add(to);
    }
  }
  return edges;
}

test('no import cycle between the top-level folders of src/', () => {
  const edges = folderImports();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    for (const next of edges.get(node) ?? []) {
      const i = path.indexOf(next);
      if (i >= 0) cycles.push([...path.slice(i), next].join(' → '));
      else visit(next, [...path, next]);
    }
  };
  for (const node of edges.keys()) visit(node, [node]);
  assert.deepEqual([...new Set(cycles)], []);
});

const doc = readFileSync('docs/architecture.md', 'utf8');

test('docs/architecture.md describes every folder of src/', () => {
  const folders = readdirSync('src').filter((n) => statSync(join('src', n)).isDirectory());
  const missing = folders.filter((f) => !doc.includes(`\`src/${f}/\``));
  assert.deepEqual(missing, [], 'add a row for each to the table in docs/architecture.md');
});

test('every file docs/architecture.md names exists', () => {
  const named = [...doc.matchAll(/`((?:src|test|schemas|docs|github-action)\/[\w./-]+?)`/g)].map((m) => m[1]!)
    .filter((p) => !p.includes('<'));
  assert.ok(named.length > 20, 'the page names the files to touch');
  const missing = [...new Set(named)].filter((p) => !existsSync(p));
  assert.deepEqual(missing, []);
});
