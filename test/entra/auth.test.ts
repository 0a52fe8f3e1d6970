import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthenticationError,
  CredentialsError,
  createTokenProvider,
  credentialsFromEnv,
  loginWithDeviceCode,
  readClientCertificate,
} from '../../src/entra/index.ts';
import { ExchangeClient } from '../../src/exchange/index.ts';
import { writeClientCertificate } from '../fakes/exchange-online.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, SECRET, startHarness, type Harness } from '../exchange/helpers.ts';

let h: Harness;
let dir: string;
const urls: string[] = [];
const realFetch = globalThis.fetch;
before(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'sigops-auth-'));
  // Every fetch made in this process (msal's and ours) is recorded: none may leave loopback.
  globalThis.fetch = (input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return realFetch(input, init);
  };
});
after(async () => {
  globalThis.fetch = realFetch;
  await h.fake.stop();
  rmSync(dir, { recursive: true, force: true });
  for (const u of urls) assert.equal(new URL(u).hostname, '127.0.0.1', `request left loopback: ${u}`);
});

const base = () => ({ loginUrl: h.fake.loginUrl, ca: h.fake.caCert });

test('client secret: msal reads the fake OpenID configuration and gets a token that Exchange accepts', async () => {
  const tokens = createTokenProvider({ ...base(), credentials: { kind: 'secret', clientId: CLIENT_ID, clientSecret: SECRET } });
  const token = await tokens.getToken(CONTOSO_ID);
  assert.equal(h.fake.tokenGrant(token)?.tenantId, CONTOSO_ID, 'a token the fake issued');
  assert.ok(h.fake.requests.some((r) => r.endsWith(`/${CONTOSO_ID}/v2.0/.well-known/openid-configuration`)), 'authority metadata from the fake');
  const client = new ExchangeClient({ tenantId: CONTOSO_ID, exchangeUrl: h.fake.exchangeUrl, tokens });
  assert.deepEqual(await client.invoke('Get-OutboundConnector'), []);
  // Cached: a second call does not ask the token endpoint again.
  const before = h.fake.tokenRequests.length;
  await tokens.getToken(CONTOSO_ID);
  assert.equal(h.fake.tokenRequests.length, before);
});

test('a wrong secret is an AuthenticationError carrying the AADSTS code and advice', async () => {
  const tokens = createTokenProvider({ ...base(), credentials: { kind: 'secret', clientId: CLIENT_ID, clientSecret: 'wrong' } });
  const err = await tokens.getToken(CONTOSO_ID).catch((e: unknown) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.equal(err.code, 'AADSTS7000215');
  assert.match(err.message, /Invalid client secret/);
  assert.match(err.advice, /secret is wrong or expired/);
});

test('an unknown tenant and an unknown app get their own advice', async () => {
  const unknownTenant = await createTokenProvider({ ...base(), credentials: { kind: 'secret', clientId: CLIENT_ID, clientSecret: SECRET } })
    .getToken('00000000-0000-0000-0000-0000000000aa')
    .catch((e: unknown) => e);
  assert.ok(unknownTenant instanceof AuthenticationError);
  assert.equal(unknownTenant.code, 'AADSTS90002');
  const unknownApp = await createTokenProvider({ ...base(), credentials: { kind: 'secret', clientId: 'nobody', clientSecret: SECRET } })
    .getToken(CONTOSO_ID)
    .catch((e: unknown) => e);
  assert.ok(unknownApp instanceof AuthenticationError);
  assert.equal(unknownApp.code, 'AADSTS700016');
  assert.match(unknownApp.advice, /consented/);
});

test('client certificate: the PEM (key + cert) is turned into a signed assertion the token endpoint verifies', async () => {
  const { path, cert } = writeClientCertificate(dir);
  const parsed = await readClientCertificate(path);
  assert.match(parsed.thumbprintSha256, /^[0-9a-f]{64}$/);
  assert.match(parsed.thumbprint, /^[0-9a-f]{40}$/);
  const credentials = { kind: 'certificate' as const, clientId: 'cert-app', certificatePath: path };
  h.fake.registerApp({ clientId: 'cert-app', certificates: [cert] });
  assert.equal(h.fake.tokenGrant(await createTokenProvider({ ...base(), credentials }).getToken(CONTOSO_ID))?.tenantId, CONTOSO_ID, 'a token the fake issued');
  // The same app without that certificate registered refuses the assertion.
  h.fake.registerApp({ clientId: 'cert-app', certificates: [] });
  const err = await createTokenProvider({ ...base(), credentials }).getToken(CONTOSO_ID).catch((e: unknown) => e);
  assert.ok(err instanceof AuthenticationError);
  assert.equal(err.code, 'AADSTS700027');
});

test('a certificate file without a key is a CredentialsError', async () => {
  const { cert } = writeClientCertificate(dir);
  const path = join(dir, 'only-cert.pem');
  writeFileSync(path, cert);
  await assert.rejects(readClientCertificate(path), CredentialsError);
});

test('GitHub Actions OIDC: the workflow token (audience api://AzureADTokenExchange) is the client assertion', async () => {
  const env = {
    SIGOPS_CLIENT_ID: 'gh-app',
    ACTIONS_ID_TOKEN_REQUEST_URL: h.fake.githubOidcUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: h.fake.githubRequestToken,
  };
  const credentials = credentialsFromEnv(env);
  assert.equal(credentials.kind, 'github-oidc');
  h.fake.registerApp({ clientId: 'gh-app', federatedSubjects: [h.fake.githubSubject] });
  assert.equal(h.fake.tokenGrant(await createTokenProvider({ ...base(), credentials }).getToken(CONTOSO_ID))?.tenantId, CONTOSO_ID, 'a token the fake issued');
  // No federated credential for this subject (e.g. a pull_request run): refused with advice.
  h.fake.registerApp({ clientId: 'gh-app', federatedSubjects: ['repo:example/sigops-config:pull_request'] });
  const err = await createTokenProvider({ ...base(), credentials }).getToken(FABRIKAM_ID).catch((e: unknown) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.equal(err.code, 'AADSTS70021');
  assert.match(err.advice, /federated credential/);
});

test('credentials come only from the environment, with a clear error when missing', () => {
  assert.throws(() => credentialsFromEnv({}), CredentialsError);
  assert.throws(() => credentialsFromEnv({ SIGOPS_CLIENT_ID: 'x' }), /no credential/);
  assert.equal(credentialsFromEnv({ SIGOPS_CLIENT_ID: 'x', SIGOPS_CLIENT_SECRET: 's' }).kind, 'secret');
  assert.equal(credentialsFromEnv({ SIGOPS_CLIENT_ID: 'x', SIGOPS_CLIENT_SECRET: 's', SIGOPS_CLIENT_CERTIFICATE: '/p.pem' }).kind, 'certificate');
});

test('device-code login: prints the code message, polls until approved, and the token works for Exchange', async () => {
  const messages: string[] = [];
  const result = await loginWithDeviceCode({ ...base(), clientId: CLIENT_ID, tenantId: CONTOSO_ID, onCode: (m) => messages.push(m) });
  assert.equal(messages.length, 1);
  assert.match(messages[0]!, /enter the code [0-9A-F]+ to authenticate/);
  assert.ok(h.fake.tokenRequests.some((t) => t.error === 'authorization_pending'), 'polled while pending');
  assert.match(result.account, /^admin@/);
  const client = new ExchangeClient({
    tenantId: CONTOSO_ID,
    exchangeUrl: h.fake.exchangeUrl,
    tokens: { getToken: async () => result.accessToken },
    anchorMailbox: `UPN:${result.account}`,
  });
  assert.ok(Array.isArray(await client.invoke('Get-TransportRule')));
});
