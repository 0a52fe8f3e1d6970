// Which rules a pull request changed, and the signature previews for them, on the example config
// with the real loader and compiled policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfigRepo } from '../../src/config/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';
import { changedRules } from '../../src/github/changes.ts';
import { previewRules, renderPreviews } from '../../src/github/preview.ts';

async function example() {
  const r = await loadConfigRepo('example-config');
  assert.ok(r.ok, 'example-config is valid');
  return r.config;
}

test('a changed template marks every rule using it; an edited rule is found by name against the base', async () => {
  const config = await example();
  const contoso = readFileSync('example-config/tenants/contoso.yaml', 'utf8');
  // The base had a different partner rule and no board rule.
  const base = contoso
    .replace('placement: bottom', 'placement: reply')
    .replace(/  - name: board[\s\S]*?disclaimer: legal\n/, '');
  const reads: string[] = [];
  const changed = await changedRules(
    config,
    'config',
    [
      { filename: 'config/tenants/contoso.yaml', status: 'modified' },
      { filename: 'config/templates/fabrikam.html.hbs', status: 'modified' },
      { filename: 'README.md', status: 'modified' },
    ],
    async (path) => {
      reads.push(path);
      return path === 'config/tenants/contoso.yaml' ? base : undefined;
    },
  );
  assert.deepEqual(reads, ['config/tenants/contoso.yaml']);
  assert.deepEqual(
    changed.map((c) => `${c.tenant}/${c.rule}: ${c.why}`),
    [
      'contoso/board: new rule',
      'contoso/partner-fabrikam: rule changed',
      'fabrikam/support-desk: template `fabrikam` changed',
      'fabrikam/external: template `fabrikam` changed',
    ],
  );
});

test('a new tenant file previews all its rules; unrelated files preview nothing', async () => {
  const config = await example();
  const added = await changedRules(config, '.', [{ filename: 'tenants/fabrikam.yaml', status: 'added' }], async () => {
    throw new Error('an added file has no base version to read');
  });
  assert.deepEqual(
    added.map((c) => c.rule),
    ['internal-short', 'support-desk', 'external'],
  );
  const none = await changedRules(config, '.', [{ filename: 'docs/x.md', status: 'modified' }], async () => undefined);
  assert.deepEqual(none, []);
});

test('previews render the first directory user the rule really applies to', async () => {
  const config = await example();
  const policy = compilePolicy(config);
  const now = new Date('2026-11-22T08:00:00Z');
  const previews = previewRules(
    config,
    policy,
    [
      { tenant: 'contoso', rule: 'sales-winter-campaign', why: 'rule changed' },
      { tenant: 'fabrikam', rule: 'internal-short', why: 'rule changed' },
    ],
    now,
  );
  const [sales, internal] = previews;
  assert.ok(sales?.blocks, sales?.note);
  // Outside the campaign window today, so the preview is dated on its first day.
  assert.equal(sales.date, '2026-12-01');
  assert.equal(sales.sample?.fromDirectory, true);
  const salesUser = config.directories.get('contoso')!.users.get(sales.sample!.email)!;
  assert.equal(salesUser.attributes.department, 'Sales');
  assert.ok(internal?.blocks, internal?.note);
  assert.match(internal.recipient!, /@fabrikam\.com$/);
  const md = renderPreviews(previews);
  assert.match(md, /### Signature previews/);
  assert.match(md, /```text\n/);
  assert.match(md, /<details><summary>HTML<\/summary>/);
  assert.ok(md.includes(salesUser.displayName ?? salesUser.email));
});
