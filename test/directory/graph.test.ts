// The Graph reader and snapshot writer in-process, against the same fakes (real HTTP on
// 127.0.0.1), with an injected sleep so throttling tests wait for nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Tenant } from '../../src/model/index.ts';
import {
  DirectorySyncError,
  GraphClient,
  GraphError,
  GraphPermissionError,
  diffDirectories,
  directoryFromData,
  graphTokenProvider,
  readGraphDirectory,
  renderSnapshot,
  syncGraphSnapshot,
  type DirectoryFileData,
  type SnapshotUser,
} from '../../src/directory/index.ts';
import { createTokenProvider } from '../../src/entra/index.ts';
import { tenant as makeTenant } from '../exchange/helpers.ts';
import { writeClientCertificate } from '../fakes/exchange-online.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, SECRET, USERS, startGraphHarness, type GraphHarness } from './helpers.ts';

let h: GraphHarness;
const urls: string[] = [];
const realFetch = globalThis.fetch;
before(async () => {
  h = await startGraphHarness();
  // Every fetch of this process (msal's and ours) is recorded: none may leave loopback.
  globalThis.fetch = (input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return realFetch(input, init);
  };
});
after(async () => {
  globalThis.fetch = realFetch;
  await h.stop();
  assert.ok(urls.length > 0);
  for (const u of urls) assert.equal(new URL(u).hostname, '127.0.0.1', `request left loopback: ${u}`);
});

const credentials = { kind: 'secret' as const, clientId: CLIENT_ID, clientSecret: SECRET };
const graphTokens = () => graphTokenProvider({ credentials, loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert });

function client(tenantId = CONTOSO_ID, sleeps: number[] = [], attempts = 7): GraphClient {
  return new GraphClient({
    tenantId,
    tokens: graphTokens(),
    graphUrl: h.graph.url,
    retry: { attempts, baseDelayMs: 1000, maxDelayMs: 60_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

test('tokens: the Graph provider asks Entra for graph.microsoft.com/.default; an Exchange token is refused by Graph', async () => {
  const token = await graphTokens().getToken(CONTOSO_ID);
  assert.equal(h.entra.fake.tokenGrant(token)?.scope, 'https://graph.microsoft.com/.default');
  const exchangeTokens = createTokenProvider({ credentials, loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert });
  assert.equal(h.entra.fake.tokenGrant(await exchangeTokens.getToken(CONTOSO_ID))?.scope, 'https://outlook.office365.com/.default');
  const wrong = new GraphClient({ tenantId: CONTOSO_ID, tokens: exchangeTokens, graphUrl: h.graph.url });
  const err = await wrong.list('/v1.0/users').catch((e: unknown) => e);
  assert.ok(err instanceof GraphPermissionError, String(err));
  assert.equal(err.status, 401);
  assert.match(err.message, /Invalid audience/);
  assert.match(err.advice, /User\.Read\.All and GroupMember\.Read\.All/);
});

test('tokens: certificate and GitHub OIDC credentials get Graph tokens through the same provider', async () => {
  const { path, cert } = writeClientCertificate(h.dir);
  h.entra.fake.registerApp({ clientId: 'graph-cert-app', certificates: [cert] });
  h.entra.fake.registerApp({ clientId: 'graph-gh-app', federatedSubjects: [h.entra.fake.githubSubject] });
  const opts = { loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert };
  const byCert = await graphTokenProvider({ ...opts, credentials: { kind: 'certificate', clientId: 'graph-cert-app', certificatePath: path } }).getToken(CONTOSO_ID);
  assert.equal(h.entra.fake.tokenGrant(byCert)?.scope, 'https://graph.microsoft.com/.default');
  const byOidc = await graphTokenProvider({
    ...opts,
    credentials: { kind: 'github-oidc', clientId: 'graph-gh-app', requestUrl: h.entra.fake.githubOidcUrl, requestToken: h.entra.fake.githubRequestToken },
  }).getToken(CONTOSO_ID);
  assert.deepEqual(h.entra.fake.tokenGrant(byOidc), { tenantId: CONTOSO_ID, clientId: 'graph-gh-app', scope: 'https://graph.microsoft.com/.default' });
  const users = await new GraphClient({ tenantId: CONTOSO_ID, tokens: { getToken: async () => byOidc }, graphUrl: h.graph.url }).list('/v1.0/users?$select=id');
  assert.equal(users.length, USERS.length);
});

test('users and groups map to directory users: lower-case addresses, first business phone, nested groups, skips counted', async () => {
  h.graph.pageSize = 1;
  try {
    const d = await readGraphDirectory(client(), ['contoso.com', 'contoso.co.uk']);
    assert.deepEqual(d.users.map((u) => u.email), ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'dmitri@contoso.co.uk']);
    assert.deepEqual(d.skipped, { noAddress: 0, otherDomain: 2, nonAscii: 0, duplicate: 0, aliases: 0, groups: 0 });
    assert.equal(d.groups, 4, 'the security group without mail is not read');
    const alice = d.users[0]!;
    assert.equal(alice.phone, '+1 555 0100');
    assert.equal(alice.mobile, '+1 555 0199');
    assert.equal(alice.company, 'Contoso Ltd');
    assert.deepEqual(alice.memberOf, ['sales@contoso.com', 'signatures@contoso.com']);
    assert.equal(d.users[2]!.phone, undefined, 'no businessPhones, no phone key');
    // Each account left out is named (the guest and the room without mail): nothing else to report.
    assert.deepEqual(d.warnings, [
      "guest erin_fabrikam.com#EXT#@contoso.onmicrosoft.com (Erin Guest): address erin@fabrikam.com is outside the tenant's domains; left out",
      "room1@contoso.onmicrosoft.com (Room 1): address room1@contoso.onmicrosoft.com is outside the tenant's domains; left out",
    ]);
  } finally {
    h.graph.pageSize = 999;
  }
});

test('a group with hidden membership is left out with a warning; a missing permission fails the sync', async () => {
  const tid = FABRIKAM_ID;
  h.graph.setTenant(tid, {
    users: [
      { mail: 'erin@fabrikam.com', userPrincipalName: 'erin@fabrikam.com', displayName: 'Erin' },
      // An address the schema's format would refuse (it would make the whole snapshot invalid) …
      { mail: 'jürgen@fabrikam.com', userPrincipalName: 'juergen@fabrikam.onmicrosoft.com', displayName: 'Jürgen' },
      // … and a second account with Erin's address.
      { mail: 'ERIN@fabrikam.com', userPrincipalName: 'erin2@fabrikam.com', displayName: 'Erin (admin)' },
    ],
    groups: [
      { displayName: 'Support', mail: 'support@fabrikam.com', members: ['erin@fabrikam.com'] },
      { displayName: 'Secret club', mail: 'club@fabrikam.com', members: ['erin@fabrikam.com'], hiddenMembership: true },
    ],
  });
  const d = await readGraphDirectory(client(tid), ['fabrikam.com']);
  assert.deepEqual(d.users.map((u) => [u.email, u.displayName]), [['erin@fabrikam.com', 'Erin']]);
  assert.deepEqual(d.users[0]!.memberOf, ['support@fabrikam.com']);
  assert.deepEqual(d.skipped, { noAddress: 0, otherDomain: 0, nonAscii: 1, duplicate: 1, aliases: 0, groups: 1 });
  assert.equal(d.warnings.length, 3);
  assert.match(d.warnings.join('\n'), /juergen@fabrikam\.onmicrosoft\.com \(Jürgen\): address jürgen@fabrikam\.com has non-ASCII characters/);
  assert.match(d.warnings.join('\n'), /group club@fabrikam\.com: members not readable/);
  assert.match(d.warnings.join('\n'), /two enabled users have the address erin@fabrikam\.com; kept the first/);
  h.graph.setPermissions(tid, ['GroupMember.Read.All']);
  const err = await readGraphDirectory(client(tid), ['fabrikam.com']).catch((e: unknown) => e);
  assert.ok(err instanceof GraphPermissionError);
  assert.equal(err.code, 'Authorization_RequestDenied');
  assert.match(err.message, /GET \/v1\.0\/users: HTTP 403/);
});

test('throttling: Retry-After is honoured exactly; without it exponential back-off; giving up is a GraphError', async () => {
  const sleeps: number[] = [];
  h.graph.throttleNext(2, { status: 429, retryAfterSeconds: 7 });
  h.graph.throttleNext(1, { status: 504 });
  const users = await client(CONTOSO_ID, sleeps).list('/v1.0/users?$select=id&$top=999');
  assert.equal(users.length, USERS.length);
  assert.deepEqual(sleeps.slice(0, 2), [7000, 7000]);
  assert.ok(sleeps[2]! >= 2000 && sleeps[2]! <= 4000, `third attempt backs off 2-4 s: ${sleeps[2]}`);

  const none: number[] = [];
  h.graph.throttleNext(3, { status: 503, retryAfterSeconds: 1 });
  const err = await client(CONTOSO_ID, none, 3).list('/v1.0/users').catch((e: unknown) => e);
  assert.ok(err instanceof GraphError, String(err));
  assert.equal(err.status, 503);
  assert.match(err.message, /still throttled after 3 attempts/);
  assert.match(err.advice, /throttling or busy/);
  assert.deepEqual(none, [1000, 1000]);
});

test('an @odata.nextLink to another host is refused (the token stays with Graph)', async () => {
  const seen: string[] = [];
  const fake: typeof fetch = async (input) => {
    seen.push(String(input));
    return new Response(JSON.stringify({ value: [{ id: '1' }], '@odata.nextLink': 'https://graph.evil.example/v1.0/users?$skiptoken=x' }), { status: 200 });
  };
  const c = new GraphClient({ tenantId: CONTOSO_ID, tokens: { getToken: async () => 't' }, graphUrl: 'https://graph.microsoft.com', fetch: fake });
  await assert.rejects(c.list('/v1.0/users'), /refusing to follow @odata\.nextLink to another host: https:\/\/graph\.evil\.example/);
  assert.deepEqual(seen, ['https://graph.microsoft.com/v1.0/users']);
});

test('an error body without JSON still gives a clear message', async () => {
  const fake: typeof fetch = async () => new Response('<html>Bad Gateway</html>', { status: 502 });
  const c = new GraphClient({ tenantId: CONTOSO_ID, tokens: { getToken: async () => 't' }, graphUrl: 'https://graph.microsoft.com', fetch: fake });
  await assert.rejects(c.list('/v1.0/users'), (e: unknown) => e instanceof GraphError && /HTTP 502 502: <html>Bad Gateway/.test(e.message));
});

test('renderSnapshot round-trips awkward values as text and is the same for the same users', () => {
  const users: SnapshotUser[] = [
    { email: 'a@contoso.com', displayName: 'Zoë Ørsted-Ñuñez', phone: '+15550100', mobile: '0123', jobTitle: 'null', department: 'true' },
    { email: 'b@contoso.com', displayName: 'O\'Brien: "Boss" # 1', officeLocation: '- Floor 3', city: '*star', country: '@home', memberOf: ['x@contoso.com'] },
  ];
  const text = renderSnapshot(users, { slug: 'contoso', schemaLine: '# yaml-language-server: $schema=x' });
  assert.equal(renderSnapshot(users, { slug: 'contoso', schemaLine: '# yaml-language-server: $schema=x' }), text);
  assert.ok(text.startsWith('# yaml-language-server: $schema=x\n# Generated by `sigops directory sync --tenant contoso`'));
  assert.doesNotMatch(text, /\d{4}-\d{2}-\d{2}T/, 'no timestamp');
  const data = parse(text) as DirectoryFileData;
  assert.deepEqual(data.users, users);
  const { directory } = directoryFromData(data);
  assert.equal(directory.users.get('a@contoso.com')?.attributes.phone, '+15550100');
  assert.equal(renderSnapshot([], { slug: 's', schemaLine: '#' }).endsWith('users: []\n'), true);
});

test('diffDirectories names added, removed and changed users with the changed fields', () => {
  const before = directoryFromData({ users: [{ email: 'a@x.com', jobTitle: 'A' }, { email: 'b@x.com', memberOf: ['g@x.com'] }, { email: 'c@x.com' }] }).directory;
  const after = directoryFromData({ users: [{ email: 'a@x.com', jobTitle: 'B', city: 'Oslo' }, { email: 'b@x.com', memberOf: ['g@x.com', 'h@x.com'] }, { email: 'd@x.com' }] }).directory;
  assert.deepEqual(diffDirectories(before, after), {
    added: ['d@x.com'],
    removed: ['c@x.com'],
    changed: [
      { email: 'a@x.com', fields: ['city', 'jobTitle'] },
      { email: 'b@x.com', fields: ['memberOf'] },
    ],
  });
  assert.deepEqual(diffDirectories(after, after), { added: [], removed: [], changed: [] });
  assert.deepEqual(diffDirectories(undefined, after).added, ['a@x.com', 'b@x.com', 'd@x.com']);
});

function graphTenant(): Tenant {
  return makeTenant('contoso', CONTOSO_ID, { domains: ['contoso.com', 'contoso.co.uk'], directory: { source: 'graph', snapshot: 'directory/contoso.graph.yaml' } });
}

test('syncGraphSnapshot keeps the editor line of an existing snapshot and puts the previous one back when the result does not validate', async () => {
  const root = join(h.dir, 'sync-unit');
  mkdirSync(join(root, 'directory'), { recursive: true });
  const path = join(root, 'directory', 'contoso.graph.yaml');
  const previous = '# yaml-language-server: $schema=../schemas/directory.schema.json\nusers: []\n';
  writeFileSync(path, previous);
  const common = { root, tenant: graphTenant(), previous: undefined, tokens: graphTokens(), graphUrl: h.graph.url };

  let seenDuringValidation = '';
  const refused = await syncGraphSnapshot({
    ...common,
    validate: async () => {
      seenDuringValidation = readFileSync(path, 'utf8');
      return { ok: false, errors: [{ file: 'directory/contoso.graph.yaml', line: 5, col: 7, message: 'too big' }] };
    },
  }).catch((e: unknown) => e);
  assert.ok(refused instanceof DirectorySyncError, String(refused));
  assert.match(refused.message, /does not validate, previous one kept:\ndirectory\/contoso\.graph\.yaml:5:7: too big/);
  assert.match(seenDuringValidation, /alice@contoso\.com/, 'the new snapshot was in place while validating');
  assert.equal(readFileSync(path, 'utf8'), previous);

  const ok = await syncGraphSnapshot({ ...common, validate: async () => ({ ok: true }) });
  assert.equal(ok.written, true);
  assert.equal(ok.users, 4);
  assert.deepEqual(ok.changes.added, ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'dmitri@contoso.co.uk']);
  assert.ok(readFileSync(path, 'utf8').startsWith('# yaml-language-server: $schema=../schemas/directory.schema.json\n# Generated'));

  // No previous snapshot: a refused one is removed again, nothing half-written remains.
  const fresh = join(h.dir, 'sync-unit-fresh');
  mkdirSync(join(fresh, 'directory'), { recursive: true });
  await assert.rejects(syncGraphSnapshot({ ...common, root: fresh, validate: async () => ({ ok: false, errors: [] }) }), DirectorySyncError);
  assert.equal(existsSync(join(fresh, 'directory', 'contoso.graph.yaml')), false);
  assert.deepEqual(readdirSync(join(fresh, 'directory')), []);

  // A config repo that carries the schemas gets a relative editor hint.
  mkdirSync(join(fresh, 'schemas'));
  writeFileSync(join(fresh, 'schemas', 'directory.schema.json'), '{}');
  await syncGraphSnapshot({ ...common, root: fresh, validate: async () => ({ ok: true }) });
  assert.ok(readFileSync(join(fresh, 'directory', 'contoso.graph.yaml'), 'utf8').startsWith('# yaml-language-server: $schema=../schemas/directory.schema.json\n'));
});

test('syncGraphSnapshot creates the folder of a snapshot path that does not exist yet', async () => {
  const root = join(h.dir, 'sync-nested');
  const t = makeTenant('contoso', CONTOSO_ID, { domains: ['contoso.com'], directory: { source: 'graph', snapshot: 'directory/graph/contoso.yaml' } });
  const r = await syncGraphSnapshot({ root, tenant: t, previous: undefined, tokens: graphTokens(), graphUrl: h.graph.url, validate: async () => ({ ok: true }) });
  assert.equal(r.file, 'directory/graph/contoso.yaml');
  assert.equal(r.users, 3, 'contoso.co.uk is not a domain of this tenant');
  assert.deepEqual(readdirSync(join(root, 'directory', 'graph')), ['contoso.yaml']);
});

test('syncGraphSnapshot refuses a file-source tenant', async () => {
  const t = makeTenant('fabrikam', FABRIKAM_ID);
  const err = await syncGraphSnapshot({ root: h.dir, tenant: t, previous: undefined, tokens: graphTokens(), graphUrl: h.graph.url, validate: async () => ({ ok: true }) }).catch((e: unknown) => e);
  assert.ok(err instanceof DirectorySyncError);
  assert.equal(err.code, 'not-graph');
});
