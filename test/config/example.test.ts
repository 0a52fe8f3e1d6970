import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigRepo } from '../../src/config/index.ts';

test('example-config validates clean, with no warnings', async () => {
  const r = await loadConfigRepo('example-config');
  assert.deepEqual(r.ok ? [] : r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.ok(r.ok);
  const slugs = r.config.tenants.map((t) => t.slug);
  assert.deepEqual(slugs, ['contoso', 'fabrikam']);
  const contoso = r.config.tenants[0]!;
  assert.equal(contoso.id, '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10');
  assert.deepEqual(contoso.exchange.senders, { kind: 'memberOf', group: 'signatures@contoso.com' });
  assert.deepEqual(contoso.exchange.deliverTo, { host: 'contoso-com.mail.protection.outlook.com', port: 25 });
  assert.equal(r.config.tenants[1]!.exchange.internal, true);
  assert.equal(r.config.directories.get('contoso')?.users.get('alice@contoso.com')?.attributes.department, 'Sales');
  assert.ok(r.config.templates.get('standard')?.text);
  assert.deepEqual(contoso.rules[1]!.when.between, { from: '2026-12-01', until: '2027-01-06' });
  assert.deepEqual(contoso.rules[1]!.position, { file: 'tenants/contoso.yaml', line: 25, col: 5 });
});
