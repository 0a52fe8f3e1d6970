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

test('property: decide never throws and always answers a known decision, whatever the request', async () => {
  const fc = (await import('fast-check')).default;
  const r = await loadConfigRepo('example-config');
  assert.ok(r.ok);
  const policy = compilePolicy(r.config);
  const address = fc.oneof(
    fc.constantFrom('alice@contoso.com', 'carol@contoso.com', 'erin@fabrikam.com', 'x@fabrikam.com', 'a@example.org', '', '@', 'no-at'),
    fc.string({ maxLength: 30 }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: policy.tenants.length - 1 }), address, fc.option(fc.record({ address, name: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }) }), { nil: undefined }),
      fc.array(address, { maxLength: 5 }), fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z') }),
      (t, sender, from, recipients, now) => {
        const d = policy.tenants[t]!.decide({ sender, recipients, now, ...(from ? { from: { address: from.address, ...(from.name !== undefined ? { name: from.name } : {}) } } : {}) });
        if (d.kind === 'sign') {
          assert.ok(d.blocks.html.length > 0); // text may be empty: a nameless, addressless sender
          assert.ok(!/<script/i.test(d.blocks.html));
        } else {
          assert.ok(['tenant-paused', 'no-matching-rule', 'render-failed'].includes(d.reason));
          assert.notEqual(d.reason, 'render-failed', d.detail);
        }
      },
    ),
    { numRuns: 500 },
  );
});
