import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigRepo } from '../../src/config/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';

test('example policy: the first matching rule decides', async () => {
  const r = await loadConfigRepo('example-config');
  assert.ok(r.ok);
  const policy = compilePolicy(r.config);
  assert.ok(Object.isFrozen(policy));
  const contoso = policy.tenantById('7C1F3C55-2D3E-4B8A-9F51-0A4E5F2B9C10');
  assert.equal(contoso?.tenant.slug, 'contoso');
  assert.equal(policy.tenantForDomain('CONTOSO.co.uk'), contoso);
  const d = contoso!.decide({ sender: 'alice@contoso.com', recipients: ['x@example.org'], now: new Date('2026-12-10T10:00:00Z') });
  assert.equal(d.kind, 'sign');
  assert.equal(d.kind === 'sign' && d.rule, 'sales-winter-campaign');
  const later = contoso!.decide({ sender: 'alice@contoso.com', recipients: ['x@example.org'], now: new Date('2027-01-07T00:00:00Z') });
  assert.equal(later.kind === 'sign' && later.rule, 'default');
});
