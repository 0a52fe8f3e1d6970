// The fast reader must agree with the `yaml` package on everything it accepts (data and
// positions), and give up on everything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { LineCounter, parse, parseDocument } from 'yaml';
import { fastParseYaml } from '../../src/config/fastyaml.ts';
import { nodeAt } from '../../src/config/source.ts';

function reference(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parse(text, { uniqueKeys: true, strict: true, logLevel: 'silent' }) };
  } catch {
    return { ok: false };
  }
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (name.endsWith('.yaml') || name.endsWith('.yml')) out.push(p);
  }
  return out;
}

function pointer(path: string): string[] {
  return path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Checks data and every recorded position against the yaml package. */
function checkAgainstYaml(text: string, label: string): boolean {
  const fast = fastParseYaml(text, true);
  const ref = reference(text);
  if (!fast) return false;
  assert.ok(ref.ok, `${label}: fast reader accepted YAML that the yaml package refuses`);
  assert.deepEqual(fast.data, ref.value, label);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, logLevel: 'silent' });
  for (const [path, offset] of fast.values ?? []) {
    const node = nodeAt(doc, pointer(path));
    const value = (node as { value?: unknown } | undefined)?.value;
    if (value === null) continue; // empty values: we point at the key instead
    assert.equal(offset, node?.range?.[0], `${label}: value position of ${path}`);
  }
  for (const [path, offset] of fast.keys ?? []) {
    const parts = pointer(path);
    const node = nodeAt(doc, parts.slice(0, -1), parts.at(-1));
    assert.equal(offset, node?.range?.[0], `${label}: key position of ${path}`);
  }
  return true;
}

test('every YAML file of example-config and of the fixtures: same data and positions as yaml', () => {
  let accepted = 0;
  const files = [...yamlFiles('example-config'), ...yamlFiles('test/fixtures/configs')];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (checkAgainstYaml(text, f)) accepted++;
  }
  // The example files are all in the fast subset; broken fixtures are left to the full parser.
  for (const f of yamlFiles('example-config')) assert.ok(fastParseYaml(readFileSync(f, 'utf8'), false), f);
  assert.ok(accepted >= 20, `only ${accepted} of ${files.length} files read fast`);
});

test('gives up on what only the full parser handles', () => {
  for (const text of [
    'a: &x 1\nb: *x\n', 'a: !tag x\n', 'a: |\n  block\n', 'a: >\n  folded\n', 'a: b\n  c\n', 'a: 1\na: 2\n',
    'a: 1.5\n', 'a: 0x1f\n', 'a: .inf\n', '---\na: 1\n', 'a:\n\t- b\n', '__proto__: 1\n', 'a: [1, [2]]\n',
    'a: "\\x41"\n', 'a: b: c\n', '"a": 1\n"a": 2\n', '- - a\n', 'a: [b,\n  c]\n', '? a\n: b\n', 'a: - b\n',
    'a: "x" y\n', 'a: b #c: d\n  e: 1\n',
  ]) {
    assert.equal(fastParseYaml(text, false), undefined, JSON.stringify(text));
  }
});

test('agrees with yaml on quoting, comments, null/bool/int, CRLF and flow collections', () => {
  const text = [
    '# comment', 'a: plain value # trailing', "b: 'it''s'", 'c: "tab\\tand \\"quote\\" \\u00e9"', 'd: ~', 'e: null', 'f: True',
    'g: false', 'h: 007', 'i: -12', 'j: 2026-12-01', 'k: "+1 555 0100"', 'l: [x, "y, z", \'w\']', 'm: { p: 1, q: r@s.example }',
    'n:', 'o:', '  - one', '  - two: 2', '    three: [ ]', 'p:', '- compact', 'q: C#sharp', 'r: a#b', 's: {}', '',
  ].join('\r\n');
  assert.ok(checkAgainstYaml(text, 'mixed'));
});

const ALPHABET = 'ab Z09:#-\'"[]{},.~+!&*?|>@`%\\_/é'.split('');
const rawString = fc.array(fc.constantFrom(...ALPHABET), { minLength: 0, maxLength: 8 }).map((a) => a.join(''));
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('email', 'displayName', 'department', 'memberOf', 'rules', 'x_1') },
  fc.constantFrom('email', 'displayName', 'name', 'when', 'a', 'b', 'key_1', '$schema', 'x-y', 'true', 'null', '__proto__', 'bad key'),
  rawString,
);
const scalar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('Sales', 'Alice Example', 'a@b.example', '-12', 'C#', 'x-y', '"q"', "'s'", 'é') },
  rawString,
  rawString.map((s) => JSON.stringify(s)),
  rawString.map((s) => `'${s.replace(/'/g, "''")}'`),
  fc.constantFrom('1', '-5', '1.5', 'true', 'NULL', '~', '2026-01-01', '+1 555', '0x10', 'a #c', 'a: b', 'x y z'),
);
type Tree = { kind: 'scalar'; v: string } | { kind: 'flow'; items: string[]; map: boolean; keys: string[] } | { kind: 'map'; entries: [string, Tree][] } | { kind: 'seq'; items: Tree[] };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar.map((v): Tree => ({ kind: 'scalar', v })),
    fc.record({ items: fc.array(scalar, { maxLength: 3 }), map: fc.boolean(), keys: fc.array(key, { minLength: 3, maxLength: 3 }) })
      .map((r): Tree => ({ kind: 'flow', ...r })),
    fc.array(fc.tuple(key, tie('t')), { minLength: 1, maxLength: 4 }).map((entries): Tree => ({ kind: 'map', entries })),
    fc.array(tie('t'), { minLength: 1, maxLength: 3 }).map((items): Tree => ({ kind: 'seq', items })),
  ),
})).t;

function render(t: Tree, indent: number, compact: boolean): string {
  const pad = ' '.repeat(indent);
  switch (t.kind) {
    case 'scalar':
      return ` ${t.v}\n`;
    case 'flow':
      return t.map ? ` { ${t.items.map((v, i) => `${t.keys[i]}: ${v}`).join(', ')} }\n` : ` [${t.items.join(', ')}]\n`;
    case 'map':
      return '\n' + t.entries.map(([k, v]) => `${pad}${k}:${render(v, indent + 2, compact)}`).join('');
    case 'seq':
      return '\n' + t.items.map((v) => {
        const body = render(v, indent + 2, compact);
        return `${pad}-${body.startsWith('\n') && v.kind === 'map' && compact ? ' ' + body.slice(indent + 3) : body}`;
      }).join('');
  }
}

test('property: on random documents the fast reader either agrees with yaml or gives up', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(key, tree), { minLength: 1, maxLength: 4 }), fc.boolean(), (entries, compact) => {
      const text = entries.map(([k, v]) => `${k}:${render(v, 2, compact)}`).join('');
      if (checkAgainstYaml(text, JSON.stringify(text))) accepted++;
    }),
    { numRuns: 1500 },
  );
  assert.ok(accepted > 150, `only ${accepted} random documents were in the fast subset`);
});

test('the nesting pre-check accepts every real file and counts flow, items and indentation', async () => {
  const { excessiveNesting } = await import('../../src/config/source.ts');
  for (const f of [...yamlFiles('example-config'), ...yamlFiles('test/fixtures/configs')]) {
    assert.equal(excessiveNesting(readFileSync(f, 'utf8')), undefined, f);
  }
  assert.equal(excessiveNesting('a: ' + '['.repeat(63)), undefined);
  assert.equal(excessiveNesting('a: ' + '['.repeat(64)), 66);
  assert.equal(excessiveNesting(`a: "${'['.repeat(100)}" # ${'{'.repeat(100)}`), undefined);
  assert.equal(excessiveNesting('- '.repeat(63) + 'x'), undefined);
  assert.equal(excessiveNesting('- '.repeat(64) + 'x'), 126);
});
