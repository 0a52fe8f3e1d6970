// What Exchange routes and what the relay accepts must agree: the rule sigops writes (created
// through the real client in the fake, read back as Get-TransportRule shows it) is evaluated with
// Exchange's documented semantics (test/fakes/transport-rules.ts) on generated messages; every
// message it routes must pass the relay's real authorise() and be attributed back to its tenant
// by the certificate (test/fakes/attribution.ts), whether SenderDomainIs matches subdomains or
// not. Null senders, automatic replies and group copies are never routed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Tenant } from '../../src/model/index.ts';
import { ExchangeConnector } from '../../src/exchange/index.ts';
import { HeaderBlock, parseHeaderFields } from '../../src/mime/headers.ts';
import { applyPlan, planTenants } from '../../src/plan/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';
import { authorise } from '../../src/relay/identity.ts';
import { RelayError } from '../../src/relay/errors.ts';
import type { FakeRecord } from '../fakes/exchange-online.ts';
import { ATTR36, attributeArrival, tenantMailViews } from '../fakes/attribution.ts';
import { routedConnector, ruleApplies, type EvaluationOptions, type Organisation, type TransportMessage } from '../fakes/transport-rules.ts';
import { CONTOSO_ID, FABRIKAM_ID, configOf, startHarness, tenant, type Harness } from './helpers.ts';

const CONTOSO = tenant('contoso', CONTOSO_ID, { domains: ['contoso.com', 'contoso.co.uk'] });
const FABRIKAM = tenant('fabrikam', FABRIKAM_ID, { domains: ['fabrikam.com'], exchange: { internal: true } });
const TENANTS: readonly Tenant[] = [CONTOSO, FABRIKAM];
const MODES: readonly EvaluationOptions[] = [{ senderDomainMatch: 'exact' }, { senderDomainMatch: 'subdomain' }];
const policy = compilePolicy(configOf('.', [...TENANTS]));

let h: Harness;
let root: string;
const rules = new Map<string, FakeRecord[]>();
const orgs = new Map<string, Organisation>();

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'sigops-routing-'));
  h = await startHarness();
  h.fake.addAcceptedDomain(CONTOSO_ID, 'contoso.co.uk');
  const config = configOf(root, [...TENANTS]);
  const plan = await planTenants({ config, exchange: h.exchange });
  const report = await applyPlan(plan, { config, exchange: h.exchange, force: true });
  assert.equal(report.converged, true, JSON.stringify(report, null, 2));
  for (const t of TENANTS) {
    rules.set(t.id, h.fake.objects(t.id, 'TransportRule'));
    orgs.set(t.id, { acceptedDomains: h.fake.acceptedDomainsOf(t.id).map((d) => d.DomainName) });
  }
});
after(async () => {
  await h?.fake.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The header block the relay parses, from the generated message. */
function headersOf(m: TransportMessage): HeaderBlock {
  const text = m.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  return new HeaderBlock(parseHeaderFields(Buffer.from(text)));
}

// ---- generators ----------------------------------------------------------------------------

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const mixCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
const tenantDomain = fc.constantFrom(...TENANTS.flatMap((t) => t.domains));
/** Tenant domains, their subdomains, look-alikes and strangers, in any case, maybe with a trailing dot. */
const domain = fc
  .oneof(
    { arbitrary: tenantDomain, weight: 6 },
    fc.tuple(label, tenantDomain).map(([l, d]) => `${l}.${d}`),
    fc.tuple(label, label, tenantDomain).map(([a, b, d]) => `${a}.${b}.${d}`),
    tenantDomain.map((d) => `x${d}`),
    tenantDomain.map((d) => `${d}.evil.example`),
    fc.constantFrom('example.org', 'gmail.com', 'contoso.org', 'mail.protection.outlook.com'),
  )
  .chain(mixCase)
  .chain((d) => fc.constantFrom(d, `${d}.`));
const address = fc.tuple(label, domain).map(([l, d]) => `${l}@${d}`);
const external = fc.tuple(label, fc.constantFrom('example.org', 'gmail.com')).map(([l, d]) => `${l}@${d}`);

interface Generated {
  readonly tenant: Tenant;
  readonly message: TransportMessage;
  /** What kind of mail this is; the kinds other than `person` must never be routed. */
  readonly kind: 'person' | 'null-sender' | 'auto-reply' | 'group-copy' | 'calendaring' | 'processed';
}

function message(t: Tenant, mailFrom: string, from: string, to: string, extra: [string, string][] = [], type?: TransportMessage['type']): TransportMessage {
  return {
    mailFrom,
    from,
    recipients: [to],
    headers: [['From', `<${from}>`], ['To', `<${to}>`], ['X-MS-Exchange-CrossTenant-Id', t.id], ...extra],
    ...(type ? { type } : {}),
    size: 20_000,
  };
}

const generated: fc.Arbitrary<Generated> = fc
  .tuple(fc.constantFrom(...TENANTS), address, fc.option(address, { nil: undefined, freq: 2 }), external, fc.integer({ min: 0, max: 9 }))
  .map(([t, from, envelope, to, pick]): Generated => {
    const mailFrom = envelope ?? from; // From ≠ envelope in about half of the cases
    switch (pick) {
      case 0:
        // An automatic reply as Exchange sends it: null return path, RFC 3834 mark, OOF type.
        return { tenant: t, kind: 'null-sender', message: message(t, '', from, to, [['Auto-Submitted', 'auto-generated'], ['X-MS-Exchange-Inbox-Rules-Loop', from]], 'OOF') };
      case 1:
        // A recall, a delivery report, a group copy without return path: only the null sender marks it.
        return { tenant: t, kind: 'null-sender', message: message(t, '', from, to) };
      case 2:
        // An automatic reply that keeps a sender (an inbox rule, an app): RFC 3834's header.
        return { tenant: t, kind: 'auto-reply', message: message(t, mailFrom, from, to, [['Auto-Submitted', from.length % 2 ? 'auto-replied' : 'Auto-Generated; owner-email="x@y"']]) };
      case 3:
        // A Microsoft 365 group's copy: without a return path when the group reports to nobody,
        // else a copy of the member's message, which the relay already signed and stamped.
        return envelope === undefined
          ? { tenant: t, kind: 'group-copy', message: message(t, '', from, to, [['Sender', `<team@${t.domains[0]}>`]]) }
          : { tenant: t, kind: 'group-copy', message: message(t, mailFrom, from, to, [['Sender', `<team@${t.domains[0]}>`], ['X-Sigops-Processed', 'true']]) };
      case 4:
        return { tenant: t, kind: 'calendaring', message: message(t, mailFrom, from, to, [], 'Calendaring') };
      case 5:
        return { tenant: t, kind: 'processed', message: message(t, mailFrom, from, to, [['X-Sigops-Processed', 'TRUE']]) };
      default:
        return { tenant: t, kind: 'person', message: message(t, mailFrom, from, to) };
    }
  });

// ---- properties ------------------------------------------------------------------------------

describe('routing agrees with the relay', () => {
  it('every message the rule routes, the relay accepts and Exchange attributes back to its tenant (SenderDomainIs exact or with subdomains)', () => {
    const views = tenantMailViews(h.fake, TENANTS.map((t) => t.id));
    fc.assert(
      fc.property(generated, ({ tenant: t, message: m }) => {
        for (const mode of MODES) {
          if (routedConnector(rules.get(t.id)!, m, orgs.get(t.id)!, mode) !== 'sigops outbound') continue;
          const auth = authorise(policy, headersOf(m), m.mailFrom);
          assert.equal(auth.tenant.tenant.slug, t.slug);
          assert.equal(auth.nullSender, false);
          const back = attributeArrival(views, { certificateName: t.exchange.certificateDomain, mailFrom: m.mailFrom, recipients: m.recipients });
          assert.deepEqual(back, { tenantId: t.id, by: 'certificate' });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('null senders, automatic replies, group copies, meeting mail and signed mail are never routed', () => {
    fc.assert(
      fc.property(generated, ({ tenant: t, message: m, kind }) => {
        if (kind === 'person') return;
        for (const mode of MODES) assert.equal(routedConnector(rules.get(t.id)!, m, orgs.get(t.id)!, mode), undefined, `${kind} routed (${mode.senderDomainMatch})`);
      }),
      { numRuns: 2000 },
    );
  });

  it('the generated mail exercises both answers: routed and not, subdomains included', () => {
    const sample = fc.sample(generated, { numRuns: 2000, seed: 12 });
    for (const mode of MODES) {
      const routed = sample.filter((g) => routedConnector(rules.get(g.tenant.id)!, g.message, orgs.get(g.tenant.id)!, mode) !== undefined);
      assert.ok(routed.length > 50, `${routed.length} routed (${mode.senderDomainMatch})`);
      assert.ok(routed.length < sample.length / 2, `${routed.length} routed (${mode.senderDomainMatch})`);
      const viaSubdomain = routed.filter((g) => !g.tenant.domains.includes(g.message.mailFrom.slice(g.message.mailFrom.indexOf('@') + 1).toLowerCase().replace(/\.$/, '')));
      assert.equal(viaSubdomain.length > 0, mode.senderDomainMatch === 'subdomain', `${viaSubdomain.length} subdomain senders routed (${mode.senderDomainMatch})`);
    }
  });

  it('mail from people of the tenant is routed (the property above is not vacuous)', () => {
    const m = message(CONTOSO, 'alice@contoso.com', 'alice@contoso.com', 'bob@example.org');
    for (const mode of MODES) assert.equal(routedConnector(rules.get(CONTOSO_ID)!, m, orgs.get(CONTOSO_ID)!, mode), 'sigops outbound');
    const sub = message(CONTOSO, 'alice@eu.contoso.com', 'alice@contoso.com', 'bob@example.org');
    assert.equal(routedConnector(rules.get(CONTOSO_ID)!, sub, orgs.get(CONTOSO_ID)!, { senderDomainMatch: 'subdomain' }), 'sigops outbound');
    assert.equal(authorise(policy, headersOf(sub), sub.mailFrom).tenant.tenant.slug, 'contoso');
  });

  it('the rule as it was before (sender in the From header, no null-sender exclusion) routes mail the relay refuses', () => {
    const old: FakeRecord[] = rules.get(CONTOSO_ID)!.map((r) => ({ ...r, SenderAddressLocation: 'Header', ExceptIfHeaderMatchesMessageHeader: null, ExceptIfHeaderMatchesPatterns: null }));
    const org = orgs.get(CONTOSO_ID)!;
    // From is a tenant address, the envelope is not: routed by the header, refused by the relay.
    const forwarded = message(CONTOSO, 'bounces+srs=x@example.org', 'alice@contoso.com', 'bob@example.org');
    assert.equal(routedConnector(old, forwarded, org, { senderDomainMatch: 'exact' }), 'sigops outbound');
    assert.throws(() => authorise(policy, headersOf(forwarded), forwarded.mailFrom), (e: unknown) => e instanceof RelayError && e.smtpCode === 550 && e.reason === 'sender-domain');
    // A null sender was routed too: accepted by the relay on the From header, but nothing could
    // attribute it on its way back without a certificate name of the tenant's own.
    const ooo = message(CONTOSO, '', 'alice@contoso.com', 'bob@example.org', [['Auto-Submitted', 'auto-replied']]);
    assert.equal(routedConnector(old, ooo, org, { senderDomainMatch: 'exact' }), 'sigops outbound');
    assert.equal(routedConnector(rules.get(CONTOSO_ID)!, ooo, org, { senderDomainMatch: 'exact' }), undefined);
  });
});

describe('mail coming back through the inbound connector', () => {
  it('a shared certificate name attributes nothing by itself: null senders are refused, the rest hang on the MAIL FROM domain', () => {
    const shared = '*.relay.sigops.example.net';
    const views = TENANTS.map((t) => ({
      id: t.id,
      acceptedDomains: t.domains,
      inboundConnectors: [{ Name: 'sigops inbound', ConnectorType: 'OnPremises', Enabled: true, TlsSenderCertificateName: shared }],
    }));
    const name = 'contoso.relay.sigops.example.net';
    assert.deepEqual(attributeArrival(views, { certificateName: name, mailFrom: '', recipients: ['bob@example.org'] }), { refused: ATTR36 });
    assert.deepEqual(attributeArrival(views, { certificateName: name, mailFrom: 'alice@contoso.com', recipients: ['bob@example.org'] }), { tenantId: CONTOSO_ID, by: 'mail-from' });
  });

  it('the tenant\'s own certificate name attributes every message, null senders included', () => {
    const views = tenantMailViews(h.fake, TENANTS.map((t) => t.id));
    for (const t of TENANTS) {
      assert.deepEqual(attributeArrival(views, { certificateName: t.exchange.certificateDomain, mailFrom: '', recipients: ['bob@example.org'] }), { tenantId: t.id, by: 'certificate' });
    }
    // Two labels below an accepted domain is not the tenant's (KB 4019940).
    assert.deepEqual(attributeArrival([{ ...views[0]!, inboundConnectors: [{ ConnectorType: 'OnPremises', TlsSenderCertificateName: 'a.relay.contoso.com' }] }], {
      certificateName: 'a.relay.contoso.com', mailFrom: '', recipients: ['bob@example.org'],
    }), { refused: ATTR36 });
  });
});

describe('the fake knows the rule parameters sigops sends', () => {
  it('stores SenderAddressLocation (Header by default) and the header-pattern exception, and refuses what Exchange refuses', async () => {
    const client = new ExchangeConnector(h.exchange).client(FABRIKAM_ID);
    await client.invoke('New-TransportRule', { Name: 'plain', RouteMessageOutboundConnector: 'sigops outbound', Priority: 5 });
    const plain = h.fake.object(FABRIKAM_ID, 'TransportRule', 'plain')!;
    assert.equal(plain.SenderAddressLocation, 'Header');
    await client.invoke('Set-TransportRule', { Identity: 'plain', SenderAddressLocation: 'headerorenvelope', ExceptIfHeaderMatchesMessageHeader: 'Auto-Submitted', ExceptIfHeaderMatchesPatterns: '^auto-' });
    const set = h.fake.object(FABRIKAM_ID, 'TransportRule', 'plain')!;
    assert.equal(set.SenderAddressLocation, 'HeaderOrEnvelope');
    assert.deepEqual(set.ExceptIfHeaderMatchesPatterns, ['^auto-']);
    const bad = await client.invoke('Set-TransportRule', { Identity: 'plain', SenderAddressLocation: 'Return-Path' }).catch((e: unknown) => e);
    assert.match(String((bad as Error).message), /Cannot bind parameter 'SenderAddressLocation'/);
    // ExceptIfMessageTypeMatches takes one type: calendaring and automatic replies cannot share it.
    const two = await client.invoke('Set-TransportRule', { Identity: 'plain', ExceptIfMessageTypeMatches: ['Calendaring', 'OOF'] }).catch((e: unknown) => e);
    assert.match(String((two as Error).message), /Cannot bind parameter 'ExceptIfMessageTypeMatches'/);
    await client.invoke('Remove-TransportRule', { Identity: 'plain', Confirm: false });
  });

  it('the evaluator refuses a rule condition it does not know rather than guess', () => {
    assert.throws(() => ruleApplies({ Name: 'x', SubjectContainsWords: ['hi'] }, message(CONTOSO, '', 'a@contoso.com', 'b@example.org'), { acceptedDomains: [] }, { senderDomainMatch: 'exact' }), /SubjectContainsWords/);
  });
});
