// authorise(): the relay's sender check follows the one definition of "a sender of this tenant"
// (src/model/sender.ts): the tenant's domains and their subdomains, the nearest tenant domain
// deciding between tenants.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderBlock, parseHeaderFields } from '../../src/mime/headers.ts';
import { RelayError } from '../../src/relay/errors.ts';
import { authorise } from '../../src/relay/identity.ts';
import { CONTOSO, FABRIKAM, makePolicy, tenant } from './helpers.ts';

const EU = '5d6e7f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5';
// A configuration the checks refuse (eu.contoso.com under another tenant's contoso.com), built
// by hand to show that even then one tenant, the nearest, owns each sender.
const policy = makePolicy([tenant('contoso', CONTOSO, ['contoso.com']), tenant('contoso-eu', EU, ['eu.contoso.com']), tenant('fabrikam', FABRIKAM, ['fabrikam.com'])]);

const headers = (tenantId: string, from: string): HeaderBlock =>
  new HeaderBlock(parseHeaderFields(Buffer.from(`From: <${from}>\r\nX-MS-Exchange-CrossTenant-Id: ${tenantId}\r\n\r\n`)));

const refusedWith = (re: RegExp) => (e: unknown) => e instanceof RelayError && e.smtpCode === 550 && e.reason === 'sender-domain' && re.test(e.message);

describe('authorise: senders of a tenant', () => {
  it('accepts the tenant\'s domains and their subdomains, in any case, with a trailing dot', () => {
    for (const sender of ['alice@contoso.com', 'Alice@Mail.Contoso.COM.', 'x@a.b.contoso.com']) {
      assert.equal(authorise(policy, headers(CONTOSO, sender), sender).tenant.tenant.slug, 'contoso', sender);
    }
  });

  it('gives a subdomain to the nearest tenant domain (longest match)', () => {
    assert.equal(authorise(policy, headers(EU, 'a@eu.contoso.com'), 'a@eu.contoso.com').tenant.tenant.slug, 'contoso-eu');
    assert.equal(authorise(policy, headers(EU, 'a@paris.eu.contoso.com'), 'a@paris.eu.contoso.com').tenant.tenant.slug, 'contoso-eu');
    assert.throws(() => authorise(policy, headers(CONTOSO, 'a@eu.contoso.com'), 'a@eu.contoso.com'), refusedWith(/eu\.contoso\.com does not belong to tenant contoso/));
    assert.equal(policy.tenantForSender('a@paris.eu.contoso.com')?.tenant.slug, 'contoso-eu');
    assert.equal(policy.tenantForSender('a@us.contoso.com')?.tenant.slug, 'contoso');
  });

  it('refuses look-alikes and other tenants\' domains', () => {
    for (const sender of ['a@xcontoso.com', 'a@contoso.com.evil.example', 'a@fabrikam.com']) {
      assert.throws(() => authorise(policy, headers(CONTOSO, sender), sender), refusedWith(/does not belong to tenant contoso/), sender);
    }
  });

  it('holds the null sender to the From header, by the same definition', () => {
    assert.equal(authorise(policy, headers(CONTOSO, 'alice@mail.contoso.com'), '').nullSender, true);
    assert.throws(() => authorise(policy, headers(CONTOSO, 'a@fabrikam.com'), ''), refusedWith(/From header domain fabrikam\.com/));
  });
});
