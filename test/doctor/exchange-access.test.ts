// The Exchange checks against the fake Exchange Online and Entra token endpoint, in process:
// the token's roles claim, read-only cmdlets (403 = no Exchange role), accepted domains, and
// token failures as findings. Nothing is ever written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { checkExchangeAccess, tokenClaims, READ_CMDLETS, type Problem } from '../../src/doctor/index.ts';
import { ExchangeConnector } from '../../src/exchange/index.ts';
import { createTokenProvider, credentialsFromEnv } from '../../src/entra/index.ts';
import { CLIENT_ID, SECRET, startHarness, tenant, type Harness } from '../exchange/helpers.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.fake.stop();
});

let seq = 0;
/** A fresh tenant in the fake, with contoso.com and its certificateDomain accepted. */
function freshTenant(slug = 'contoso') {
  const id = `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
  h.fake.addTenant(id);
  const t = tenant(slug, id);
  return t;
}

function run(t: ReturnType<typeof tenant>, clientId = CLIENT_ID, secret = SECRET) {
  const connector = new ExchangeConnector({ ...h.exchange, credentials: { kind: 'secret', clientId, clientSecret: secret } });
  return checkExchangeAccess(t, () => connector.tokenProvider(), () => connector.client(t.id));
}

const codes = (problems: readonly Problem[]): string[] => problems.map((p) => `${p.severity}:${p.code}`);

test('a tenant set up right: permission in the token, the cmdlets answer, the domains are accepted', async () => {
  const t = freshTenant();
  h.fake.addAcceptedDomain(t.id, 'contoso.com');
  h.fake.addAcceptedDomain(t.id, t.exchange.certificateDomain);
  const calls = h.fake.calls.length;
  const out = await run(t);
  assert.deepEqual(out.permission.problems, []);
  assert.match(out.permission.summary, /carries the application permission Exchange\.ManageAsApp/);
  assert.deepEqual(out.role.problems, []);
  assert.match(out.role.summary, /cannot be proven without changing something/);
  assert.deepEqual(out.acceptedDomains.problems, []);
  assert.match(out.acceptedDomains.summary, /accepted domains: .*contoso\.com/);
  const made = h.fake.calls.slice(calls).map((c) => c.cmdlet);
  assert.deepEqual(made, [...READ_CMDLETS]);
  assert.ok(made.every((c) => c.startsWith('Get-')), 'read-only');
});

test('the fake issues tokens whose roles claim carries the app\'s Exchange permissions', async () => {
  const connector = new ExchangeConnector(h.exchange);
  const t = freshTenant();
  const claims = tokenClaims(await connector.tokenProvider().getToken(t.id));
  assert.deepEqual(claims?.roles, ['Exchange.ManageAsApp']);
  assert.equal(claims?.tid, t.id);
  assert.equal(tokenClaims('not-a-jwt'), undefined);
  assert.equal(tokenClaims('a.!!!.c'), undefined);
});

test('an app without the Exchange.ManageAsApp permission: the token has no roles claim', async () => {
  h.fake.registerApp({ clientId: 'no-permission-app', secret: SECRET, exchangeRoles: [] });
  const t = freshTenant();
  const out = await run(t, 'no-permission-app');
  assert.deepEqual(codes(out.permission.problems), ['error:permission-missing']);
  assert.match(out.permission.problems[0]!.message, /carries no Exchange\.ManageAsApp application permission \(roles: none\)/);
  assert.match(out.permission.problems[0]!.advice, /Grant admin consent/);
});

test('the V2 permission named by the Admin API documentation is accepted too', async () => {
  h.fake.registerApp({ clientId: 'v2-app', secret: SECRET, exchangeRoles: ['Exchange.ManageAsAppV2'] });
  const out = await run(freshTenant(), 'v2-app');
  assert.deepEqual(out.permission.problems, []);
  assert.match(out.permission.summary, /Exchange\.ManageAsAppV2/);
});

test('no Exchange role: every cmdlet answers 403, one finding with the role to assign', async () => {
  const t = freshTenant();
  h.fake.setExchangeRole(t.id, false);
  const out = await run(t);
  assert.deepEqual(out.permission.problems, []);
  assert.deepEqual(codes(out.role.problems), ['error:exchange-role-missing']);
  assert.match(out.role.problems[0]!.message, /answered 403 to Get-AcceptedDomain, Get-OutboundConnector, Get-InboundConnector, Get-TransportRule/);
  assert.match(out.role.problems[0]!.advice, /Exchange Administrator role/);
  assert.equal(out.acceptedDomains.skipped, true);
});

test('domains and certificateDomain Exchange does not accept', async () => {
  const t = freshTenant();
  h.fake.addAcceptedDomain(t.id, 'contoso.com');
  // relay.contoso.net: a name under no accepted domain (validation would refuse it too).
  const out = await run({ ...t, domains: ['contoso.com', 'contoso.co.uk'], exchange: { ...t.exchange, certificateDomain: 'relay.contoso.net' } });
  assert.deepEqual(codes(out.acceptedDomains.problems), ['warning:domain-not-accepted', 'error:certificate-domain-not-accepted']);
  assert.match(out.acceptedDomains.problems[1]!.message, /certificateDomain relay\.contoso\.net is neither an accepted domain of the tenant/);
});

test('token failures become the permission finding, with the AADSTS code and advice; the rest is skipped', async () => {
  const t = freshTenant();
  const out = await run(t, CLIENT_ID, 'wrong secret');
  assert.deepEqual(codes(out.permission.problems), ['error:AADSTS7000215']);
  assert.match(out.permission.problems[0]!.advice, /secret is wrong or expired/);
  assert.equal(out.role.skipped, true);
  assert.equal(out.acceptedDomains.skipped, true);

  // No credential in the environment: CredentialsError, with the variables to set.
  const noCredentials = await checkExchangeAccess(
    t,
    () => createTokenProvider({ credentials: credentialsFromEnv({}) }),
    () => {
      throw new Error('not reached');
    },
  );
  assert.deepEqual(codes(noCredentials.permission.problems), ['error:credentials']);
  assert.match(noCredentials.permission.problems[0]!.advice, /SIGOPS_CLIENT_ID/);
});
