// The JSON Schemas double as the config reference and editor help: every property is
// described, every object closed, and the example files point editors at them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

type Schema = Record<string, unknown>;

function walk(schema: unknown, path: string, visit: (s: Schema, path: string) => void): void {
  if (schema === null || typeof schema !== 'object') return;
  if (Array.isArray(schema)) {
    schema.forEach((s, i) => walk(s, `${path}/${i}`, visit));
    return;
  }
  const s = schema as Schema;
  visit(s, path);
  for (const [k, v] of Object.entries(s)) {
    if (k === 'properties' || k === 'patternProperties' || k === '$defs') {
      for (const [name, sub] of Object.entries(v as Schema)) walk(sub, `${path}/${k}/${name}`, visit);
    } else if (k === 'if') {
      continue; // conditions of if/then, not documented properties
    } else if (typeof v === 'object') {
      walk(v, `${path}/${k}`, visit);
    }
  }
}

for (const name of ['tenant', 'directory']) {
  test(`${name}.schema.json: draft 2020-12, every property described, every object closed`, () => {
    const schema = JSON.parse(readFileSync(`schemas/${name}.schema.json`, 'utf8')) as Schema;
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    const undescribed: string[] = [];
    const open: string[] = [];
    walk(schema, '#', (s, path) => {
      for (const key of ['properties', 'patternProperties'] as const) {
        for (const [prop, sub] of Object.entries((s[key] as Schema | undefined) ?? {})) {
          const d = (sub as Schema).description;
          if (typeof d !== 'string' || d.length < 10) undescribed.push(`${path}/${key}/${prop}`);
        }
      }
      if (s.type === 'object' && s.additionalProperties !== false) open.push(path);
    });
    assert.deepEqual(undescribed, []);
    assert.deepEqual(open, []);
  });
}

test('example-config files carry a yaml-language-server $schema line', () => {
  for (const [dir, schema] of [['tenants', 'tenant'], ['directory', 'directory']] as const) {
    for (const f of readdirSync(`example-config/${dir}`)) {
      const first = readFileSync(`example-config/${dir}/${f}`, 'utf8').split('\n')[0];
      assert.equal(first, `# yaml-language-server: $schema=../../schemas/${schema}.schema.json`, f);
    }
  }
});
