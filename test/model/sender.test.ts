// Which tenant a sender belongs to: one definition (src/model/sender.ts) behind the relay's
// authorisation and Policy.tenantForSender (`sigops sign`, `sigops preview`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigRepo } from '../../src/config/index.ts';
import { senderDomain, tenantOwnsSender } from '../../src/model/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';

describe('senderDomain', () => {
  it('is the part after the last @, lower-case, without a trailing dot', () => {
    assert.equal(senderDomain('Alice@Contoso.COM'), 'contoso.com');
    assert.equal(senderDomain('"a@b"@contoso.com.'), 'contoso.com');
    assert.equal(senderDomain(' bob@fabrikam.com '), 'fabrikam.com');
  });

  it('is undefined for an address without a domain', () => {
    assert.equal(senderDomain(''), undefined);
    assert.equal(senderDomain('postmaster'), undefined);
    assert.equal(senderDomain('alice@'), undefined);
    assert.equal(senderDomain('alice@.'), undefined);
  });
});

describe('tenant owns sender', async () => {
  const loaded = await loadConfigRepo('example-config');
  assert.ok(loaded.ok);
  const policy = compilePolicy(loaded.config);
  const contoso = policy.tenants.find((t) => t.tenant.slug === 'contoso')!;

  it('in exactly the tenant\'s domains, whatever the case', () => {
    assert.ok(tenantOwnsSender(contoso.tenant, 'alice@contoso.com'));
    assert.ok(tenantOwnsSender(contoso.tenant, 'ALICE@Contoso.Co.UK.'));
    assert.ok(!tenantOwnsSender(contoso.tenant, 'alice@sub.contoso.com'));
    assert.ok(!tenantOwnsSender(contoso.tenant, 'eve@fabrikam.com'));
    assert.ok(!tenantOwnsSender(contoso.tenant, ''));
  });

  it('Policy.tenantForSender agrees with it for every tenant', () => {
    for (const address of ['alice@contoso.com', 'Bob@Fabrikam.com', 'x@contoso.co.uk.', 'x@sub.contoso.com', 'x@gmail.com', 'nobody', '']) {
      const owner = policy.tenants.find((t) => tenantOwnsSender(t.tenant, address));
      assert.equal(policy.tenantForSender(address), owner, address);
    }
    assert.equal(policy.tenantForSender('alice@contoso.com'), contoso);
  });
});
