// `sigops validate` and `sigops preview` through the real bin entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve('bin/sigops');

function sigops(args: string[], cwd = process.cwd()) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate: example-config is valid (exit 0)', () => {
  const r = sigops(['validate', '--config', 'example-config']);
  assert.equal(r.stdout, 'config is valid (0 warnings)\n');
  assert.equal(r.code, 0);
});

test('validate --format github: annotations with paths relative to the working directory (exit 1)', () => {
  const r = sigops(['validate', '--config', 'test/fixtures/configs/template-not-found', '--format', 'github']);
  assert.equal(r.code, 1);
  assert.equal(
    r.stdout,
    "::error file=test/fixtures/configs/template-not-found/tenants/acme.yaml,line=14,col=13,title=sigops template-not-found::banner template 'winter' not found: add templates/winter.html.hbs or fix the name\n" +
      "::error file=test/fixtures/configs/template-not-found/tenants/acme.yaml,line=15,col=17,title=sigops template-not-found::disclaimer template 'basik' not found (did you mean 'basic'?): add templates/basik.html.hbs or fix the name\n",
  );
});

test('validate --format json and a bad --format', () => {
  const r = sigops(['validate', '--config', 'test/fixtures/configs/dates', '--format', 'json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout) as { valid: boolean; errors: { code: string; line: number }[] };
  assert.equal(doc.valid, false);
  assert.deepEqual(doc.errors.map((e) => `${e.line} ${e.code}`), ['14 invalid-value', '18 date-order']);
  const bad = sigops(['validate', '--format', 'xml']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Allowed choices are text, github, json/);
});

test('preview: rule on stderr, rendered block on stdout, in html or text', () => {
  const html = sigops(['preview', '--config', 'example-config', '--from', 'Alice@Contoso.com', '--to', 'buyer@example.org', '--date', '2026-12-10']);
  assert.equal(html.code, 0);
  assert.equal(html.stderr, "tenant contoso, rule 'sales-winter-campaign', placement reply\n");
  assert.match(html.stdout, /<strong style="font-size: 15px; color: #0078d4;">Alice Example<\/strong>/);
  assert.match(html.stdout, /Winter sale 2026/);
  const text = sigops(['preview', '--config', 'example-config', '--from', 'frank@fabrikam.com', '--to', 'erin@fabrikam.com', '--format', 'text']);
  assert.equal(text.code, 0);
  assert.equal(text.stderr, "tenant fabrikam, rule 'internal-short', placement reply\n");
  assert.equal(text.stdout, 'Frank Miller · Head of Finance · ext. +49 30 901821\n');
});

test('preview: unknown domain and invalid config are errors', () => {
  const r = sigops(['preview', '--config', 'example-config', '--from', 'x@unknown.example']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no tenant owns the domain unknown\.example/);
  const bad = sigops(['preview', '--config', 'test/fixtures/configs/dates', '--from', 'ann@acme.example']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /date-order/);
});

test('validate: warnings alone do not fail (exit 0), and come out as ::warning annotations', () => {
  const r = sigops(['validate', '--format', 'github'], resolve('test/fixtures/configs/warnings'));
  assert.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 10);
  assert.ok(lines.every((l) => l.startsWith('::warning file=')), r.stdout);
  assert.ok(lines.includes("::warning file=tenants/acme.yaml,line=8,col=24,title=sigops unknown-group::no directory user is a member of signatures@acme.example, so Exchange would route nobody's mail through sigops; check the group address"));
});
