// Which tenant a sender belongs to: one definition (src/model/sender.ts) behind the relay's
// authorisation and Policy.tenantForSender (`sigops sign`, `sigops preview`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigRepo } from '../../src/config/index.ts';
import { certificateDomainOwner, domainAndParents, isWithinDomain, owningDomain, routedSenderDomains, senderDomain, tenantOwnsSender, type ConfigRepo, type Tenant } from '../../src/model/index.ts';
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

  it('in the tenant\'s domains and their subdomains, whatever the case', () => {
    assert.ok(tenantOwnsSender(contoso.tenant, 'alice@contoso.com'));
    assert.ok(tenantOwnsSender(contoso.tenant, 'ALICE@Contoso.Co.UK.'));
    // Subdomains belong to the parent's tenant (Microsoft 365 keeps them there, and Exchange's
    // SenderDomainIs may route them): the relay accepts them rather than bounce them.
    assert.ok(tenantOwnsSender(contoso.tenant, 'alice@sub.contoso.com'));
    assert.ok(tenantOwnsSender(contoso.tenant, 'alice@a.b.Contoso.com.'));
    assert.ok(!tenantOwnsSender(contoso.tenant, 'eve@fabrikam.com'));
    assert.ok(!tenantOwnsSender(contoso.tenant, 'eve@xcontoso.com'));
    assert.ok(!tenantOwnsSender(contoso.tenant, 'eve@contoso.com.evil.example'));
    assert.ok(!tenantOwnsSender(contoso.tenant, ''));
    assert.ok(!tenantOwnsSender(contoso.tenant, '<>'));
  });

  it('the transport rule routes exactly the domains the relay accepts', () => {
    assert.deepEqual(routedSenderDomains(contoso.tenant), ['contoso.com', 'contoso.co.uk']);
    for (const d of routedSenderDomains(contoso.tenant)) {
      assert.ok(tenantOwnsSender(contoso.tenant, `x@${d}`), d);
      assert.ok(tenantOwnsSender(contoso.tenant, `x@any.${d}`), `subdomain of ${d}`);
    }
  });

  it('Policy.tenantForSender agrees with it for every tenant', () => {
    for (const address of ['alice@contoso.com', 'Bob@Fabrikam.com', 'x@contoso.co.uk.', 'x@sub.contoso.com', 'x@gmail.com', 'nobody', '']) {
      const owner = policy.tenants.find((t) => tenantOwnsSender(t.tenant, address));
      assert.equal(policy.tenantForSender(address), owner, address);
    }
    assert.equal(policy.tenantForSender('alice@contoso.com'), contoso);
  });
});

describe('the nearest tenant domain', () => {
  const t = (slug: string, domains: string[]): Tenant => ({
    slug, id: `00000000-0000-4000-8000-00000000000${slug.length}`, name: slug, domains, enabled: true, rules: [],
    exchange: { smartHost: 'relay.example.net', certificateDomain: `relay.${domains[0]}`, deliverTo: { host: 'mx.example.net', port: 25 }, senders: { kind: 'all' }, internal: false },
    directory: { source: 'file', file: `directory/${slug}.yaml` }, file: `tenants/${slug}.yaml`,
  });

  it('walks from a domain up through its parents', () => {
    assert.deepEqual(domainAndParents('A.b.Contoso.com.'), ['a.b.contoso.com', 'b.contoso.com', 'contoso.com', 'com']);
    assert.ok(isWithinDomain('sales.contoso.com', 'contoso.com'));
    assert.ok(isWithinDomain('Contoso.com.', 'contoso.com'));
    assert.ok(!isWithinDomain('xcontoso.com', 'contoso.com'));
    assert.equal(owningDomain(['contoso.com', 'eu.contoso.com'], 'a@x.eu.contoso.com'), 'eu.contoso.com');
    assert.equal(owningDomain(['contoso.com'], ''), undefined);
  });

  it('Policy.tenantForSender takes the longest matching domain (a config the checks would refuse still resolves one way)', () => {
    const parent = t('parent', ['contoso.com']);
    const child = t('child', ['eu.contoso.com']);
    const config: ConfigRepo = { root: '.', tenants: [parent, child], templates: new Map(), directories: new Map() };
    const policy = compilePolicy(config);
    assert.equal(policy.tenantForSender('a@contoso.com')?.tenant.slug, 'parent');
    assert.equal(policy.tenantForSender('a@eu.contoso.com')?.tenant.slug, 'child');
    assert.equal(policy.tenantForSender('a@x.eu.contoso.com')?.tenant.slug, 'child');
    assert.equal(policy.tenantForSender('a@us.contoso.com')?.tenant.slug, 'parent');
    assert.equal(policy.tenantForSender('a@example.org'), undefined);
  });
});

describe('certificate names', () => {
  const domains = ['contoso.com', 'contoso.co.uk'];
  it('a tenant domain or a host name directly under one stands for it', () => {
    assert.equal(certificateDomainOwner('relay.contoso.com', domains), 'contoso.com');
    assert.equal(certificateDomainOwner('Contoso.co.uk.', domains), 'contoso.co.uk');
    assert.equal(certificateDomainOwner('relay.contoso.co.uk', domains), 'contoso.co.uk');
  });
  it('deeper names, wildcards and other domains do not', () => {
    assert.equal(certificateDomainOwner('relay.mail.contoso.com', domains), undefined);
    assert.equal(certificateDomainOwner('*.contoso.com', domains), undefined);
    assert.equal(certificateDomainOwner('contoso.relay.sigops.example.net', domains), undefined);
    assert.equal(certificateDomainOwner('relay.xcontoso.com', domains), undefined);
    assert.equal(certificateDomainOwner('', domains), undefined);
  });
});
