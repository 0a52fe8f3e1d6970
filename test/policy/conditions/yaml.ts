// example-config with one more rule of contoso, before its default rule: for the tests of a
// condition as the loader reads it from YAML (positions of bad values included).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A copy of example-config whose contoso has the rule `name` with these `when:` lines first; and the line of each. */
export function exampleWithRule(name: string, whenLines: readonly string[], signature = 'executive'): { dir: string; lineOf(text: string): number } {
  const dir = mkdtempSync(join(tmpdir(), `sigops-${name}-`));
  cpSync(resolve('example-config'), dir, { recursive: true });
  const file = join(dir, 'tenants', 'contoso.yaml');
  const yaml = readFileSync(file, 'utf8');
  assert.ok(yaml.includes('  - name: board\n'));
  const rule = [`  - name: ${name}`, '    when:', ...whenLines.map((l) => `      ${l}`), `    signature: ${signature}`, ''].join('\n');
  const written = yaml.replace('  - name: board\n', `${rule}  - name: board\n`);
  writeFileSync(file, written);
  const lines = written.split('\n');
  return { dir, lineOf: (text) => lines.findIndex((l) => l.includes(text)) + 1 };
}
