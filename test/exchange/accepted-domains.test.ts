// Accepted domains (Get-AcceptedDomain) against a tenant file: which sender domains Exchange
// does not send from (a warning) and whether the certificate name is the tenant's (an error).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExchangeConnector,
  acceptedDomainFindings,
  acceptedDomainFor,
  acceptedDomainForCertificate,
  listAcceptedDomains,
  type AcceptedDomain,
} from '../../src/exchange/index.ts';
import { CONTOSO_ID, startHarness, tenant, type Harness } from './helpers.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.fake.stop());

const d = (domain: string, more: Partial<AcceptedDomain> = {}): AcceptedDomain => ({ domain, type: 'Authoritative', isDefault: false, matchSubDomains: false, ...more });

test('the fake lists the initial domain and the ones added, as Get-AcceptedDomain does', async () => {
  h.fake.addAcceptedDomain(CONTOSO_ID, { DomainName: 'Partners.Contoso.com', DomainType: 'InternalRelay', MatchSubDomains: true });
  const list = await listAcceptedDomains(new ExchangeConnector(h.exchange).client(CONTOSO_ID));
  assert.deepEqual(list.map((x) => [x.domain, x.type, x.isDefault, x.matchSubDomains]), [
    [`${CONTOSO_ID.slice(0, 8)}.onmicrosoft.com`, 'Authoritative', true, false],
    ['contoso.com', 'Authoritative', false, false],
    ['partners.contoso.com', 'InternalRelay', false, true],
  ]);
});

test('a sender domain must be accepted itself, or under a domain that matches subdomains', () => {
  const accepted = [d('contoso.com'), d('partners.contoso.net', { matchSubDomains: true })];
  assert.equal(acceptedDomainFor('Contoso.com.', accepted)?.domain, 'contoso.com');
  assert.equal(acceptedDomainFor('sales.contoso.com', accepted), undefined);
  assert.equal(acceptedDomainFor('eu.partners.contoso.net', accepted)?.domain, 'partners.contoso.net');
});

test('a certificate name must be an accepted domain or a host name directly under one (KB 4019940)', () => {
  const accepted = [d('contoso.com')];
  assert.equal(acceptedDomainForCertificate('contoso.com', accepted)?.domain, 'contoso.com');
  assert.equal(acceptedDomainForCertificate('relay.contoso.com', accepted)?.domain, 'contoso.com');
  assert.equal(acceptedDomainForCertificate('relay.mail.contoso.com', accepted), undefined);
  assert.equal(acceptedDomainForCertificate('*.contoso.com', accepted), undefined);
  assert.equal(acceptedDomainForCertificate('contoso.relay.sigops.example.net', accepted), undefined);
});

test('findings: a warning per sender domain not accepted, an error for a certificate name that is not the tenant\'s', () => {
  const t = tenant('contoso', CONTOSO_ID, { domains: ['contoso.com', 'contoso.co.uk'], exchange: { certificateDomain: 'contoso.relay.sigops.example.net' } });
  const found = acceptedDomainFindings(t, [d('contoso.com')]);
  assert.deepEqual(found.map((f) => [f.code, f.severity, f.domain]), [
    ['domain-not-accepted', 'warning', 'contoso.co.uk'],
    ['certificate-domain-not-accepted', 'error', 'contoso.relay.sigops.example.net'],
  ]);
  assert.match(found[1]!.message, /550 5\.7\.64 ATTR36/);
  assert.match(found[1]!.advice, /relay\.<domain>/);
  assert.deepEqual(acceptedDomainFindings(tenant('contoso', CONTOSO_ID), [d('contoso.com')]), []);
});
