// The Graph sync against a tenant shaped like real ones (the Graph fake, real HTTP on 127.0.0.1):
// aliases from proxyAddresses, opt-in shared / room / equipment mailboxes, only the properties
// templates and rules use in $select, and every kind of bad input skipped, named and counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfigRepo, loadValidConfig } from '../../src/config/index.ts';
import type { Tenant } from '../../src/model/index.ts';
import {
  GraphClient,
  GraphPermissionError,
  directoryUse,
  graphTokenProvider,
  graphUserFields,
  readGraphDirectory,
  syncGraphSnapshot,
  type DirectoryUse,
} from '../../src/directory/index.ts';
import { tenant as makeTenant } from '../exchange/helpers.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, SECRET, makeConfig, sigops, startGraphHarness, type GraphHarness } from './helpers.ts';

let h: GraphHarness;
before(async () => {
  h = await startGraphHarness();
});
after(async () => {
  await h.stop();
});

const credentials = { kind: 'secret' as const, clientId: CLIENT_ID, clientSecret: SECRET };
const client = (tenantId = CONTOSO_ID) =>
  new GraphClient({
    tenantId,
    tokens: graphTokenProvider({ credentials, loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert }),
    graphUrl: h.graph.url,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    sleep: async () => undefined,
  });
const DOMAINS = ['contoso.com', 'contoso.co.uk'];
const usersPaths = (from: number) => h.graph.requests.slice(from).filter((r) => r.path.startsWith('/v1.0/users?')).map((r) => decodeURIComponent(r.path));

test('aliases: secondary smtp: addresses in the tenant\'s domains become aliases; SMTP: primary, X500:, SIP: and other domains do not', async () => {
  const d = await readGraphDirectory(client(), DOMAINS);
  const alice = d.users.find((u) => u.email === 'alice@contoso.com')!;
  assert.deepEqual(alice.aliases, ['a.smith@contoso.co.uk']);
  assert.equal(d.users.find((u) => u.email === 'bob@contoso.com')!.aliases, undefined, 'no proxyAddresses, no aliases key');
  // Graph's mail may be empty while proxyAddresses has the primary: that is the address then.
  h.graph.setTenant(FABRIKAM_ID, {
    users: [{ mail: null, userPrincipalName: 'f@fabrikam.onmicrosoft.com', displayName: 'F', proxyAddresses: ['smtp:f.alias@fabrikam.com', 'SMTP:Frank@Fabrikam.com'] }],
  });
  const f = await readGraphDirectory(client(FABRIKAM_ID), ['fabrikam.com']);
  assert.deepEqual(f.users.map((u) => [u.email, u.aliases]), [['frank@fabrikam.com', ['f.alias@fabrikam.com']]]);
});

test('only what templates and rules use: $select holds matching\'s properties and the used ones, nothing else; no groups when nothing uses them', async () => {
  const from = h.graph.requests.length;
  const use: DirectoryUse = { attributes: new Set(['jobTitle', 'pronouns']), groups: false };
  const d = await readGraphDirectory(client(), DOMAINS, { use });
  assert.deepEqual(usersPaths(from), ['/v1.0/users?$select=id,mail,userPrincipalName,proxyAddresses,jobTitle&$filter=accountEnabled eq true&$top=999']);
  assert.ok(!h.graph.requests.slice(from).some((r) => r.path.startsWith('/v1.0/groups')), 'groups not read');
  const alice = d.users.find((u) => u.email === 'alice@contoso.com')!;
  assert.deepEqual(Object.keys(alice), ['email', 'aliases', 'jobTitle'], 'no displayName, phone, memberOf … in the snapshot');

  // The example contoso: its templates (standard, executive, winter-sale, legal) and rules
  // (memberOf, department) decide; pronouns is not a Graph property, so it is not asked for.
  const { config } = await loadValidConfig('example-config');
  const contoso = config.tenants.find((t) => t.slug === 'contoso')!;
  const used = directoryUse(contoso, config.templates);
  assert.ok(used.groups);
  assert.deepEqual(graphUserFields(used), ['id', 'mail', 'userPrincipalName', 'proxyAddresses', 'displayName', 'jobTitle', 'department', 'officeLocation', 'businessPhones', 'mobilePhone']);
  // Asking Graph for a property it does not have fails as on Graph: the sync never does.
  await assert.rejects(client().list('/v1.0/users?$select=id,pronouns'), /Could not find a property named 'pronouns' on type 'microsoft\.graph\.user'/);
});

test('a template reading `user` as a whole reads every attribute', async () => {
  const t = makeTenant('contoso', CONTOSO_ID, { domains: DOMAINS });
  const tenant: Tenant = { ...t, rules: [{ name: 'all', signature: 'whole', placement: 'reply', when: {}, position: { file: 'tenants/contoso.yaml', line: 1, col: 1 } }] };
  const templates = new Map([['whole', { name: 'whole', html: '{{#with user}}{{jobTitle}}{{/with}}', htmlFile: 'templates/whole.html.hbs' }]]);
  assert.equal(directoryUse(tenant, templates).attributes, 'all');
  const only = new Map([['whole', { name: 'whole', html: '<p>{{user.jobTitle}}</p>', htmlFile: 'templates/whole.html.hbs' }]]);
  assert.deepEqual([...(directoryUse(tenant, only).attributes as Set<string>)], ['jobTitle']);
  assert.equal(directoryUse(tenant, only).groups, false);
});

test('shared mailboxes: off by default; opted in, included with their own attributes, aliases and mailboxType', async () => {
  const off = await readGraphDirectory(client(), DOMAINS);
  assert.ok(!off.users.some((u) => u.email === 'support@contoso.com'));
  assert.equal(off.mailboxes, 0);

  const from = h.graph.requests.length;
  const on = await readGraphDirectory(client(), DOMAINS, { mailboxes: ['shared'] });
  const support = on.users.find((u) => u.email === 'support@contoso.com');
  assert.deepEqual(support, {
    email: 'support@contoso.com',
    aliases: ['help@contoso.co.uk'],
    mailboxType: 'shared',
    displayName: 'Contoso Support',
    jobTitle: 'Customer Support',
    phone: '+1 555 0150',
  });
  assert.equal(on.mailboxes, 1);
  assert.ok(!on.users.some((u) => u.email === 'gone@contoso.com'), "a leaver's disabled mailbox (userPurpose user) stays out");
  const calls = h.graph.requests.slice(from).map((r) => decodeURIComponent(r.path));
  assert.ok(calls.some((p) => p.startsWith('/v1.0/users?') && p.includes('$filter=accountEnabled eq false')));
  // One mailboxSettings request per disabled account that could be written (support@, gone@), none for others.
  assert.equal(calls.filter((p) => p.endsWith('/mailboxSettings/userPurpose')).length, 2);

  // Rooms only: the shared mailbox stays out.
  assert.ok(!(await readGraphDirectory(client(), DOMAINS, { mailboxes: ['room'] })).users.some((u) => u.email === 'support@contoso.com'));

  // Without MailboxSettings.Read: a permission error that says which permission and how to opt out.
  h.graph.setPermissions(CONTOSO_ID, ['User.Read.All', 'GroupMember.Read.All']);
  try {
    const err = await readGraphDirectory(client(), DOMAINS, { mailboxes: ['shared'] }).catch((e: unknown) => e);
    assert.ok(err instanceof GraphPermissionError, String(err));
    assert.match(err.advice, /MailboxSettings\.Read/);
    assert.match(err.advice, /directory\.mailboxes/);
  } finally {
    h.graph.setPermissions(CONTOSO_ID, ['User.Read.All', 'GroupMember.Read.All', 'MailboxSettings.Read']);
  }
});

test('shared mailboxes through the CLI: directory.mailboxes in the tenant file, counted in the summary', async () => {
  const root = makeConfig(h.dir, 'shared');
  const file = join(root, 'tenants', 'contoso.yaml');
  writeFile(file, readFileSync(file, 'utf8').replace('  source: graph\n', '  source: graph\n  mailboxes: [shared]\n'));
  const r = await sigops(h, ['directory', 'sync', '--config', root, '--tenant', 'contoso']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /5 users \(1 shared\/resource mailboxes\)/);
  assert.match(r.stdout, /^ {2}\+ support@contoso\.com$/m);
  const snapshot = parse(readFileSync(join(root, 'directory', 'contoso.graph.yaml'), 'utf8')) as { users: { email: string; mailboxType?: string }[] };
  assert.equal(snapshot.users.find((u) => u.email === 'support@contoso.com')?.mailboxType, 'shared');
  const loaded = await loadConfigRepo(root);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  // Mail "sent as" help@ (the shared mailbox's alias) finds the shared mailbox.
  assert.equal(loaded.config.directories.get('contoso')?.addresses?.get('help@contoso.co.uk')?.email, 'support@contoso.com');
});

test('bad input from Graph never breaks the snapshot: each case skipped or dropped, named in a warning, counted', async () => {
  h.graph.setTenant(FABRIKAM_ID, {
    users: [
      { mail: 'erin@fabrikam.com', userPrincipalName: 'erin@fabrikam.com', displayName: 'Erin', proxyAddresses: ['SMTP:erin@fabrikam.com', 'smtp:shared.alias@fabrikam.com', 'smtp:zoë@fabrikam.com'] },
      // No address at all: no mail, no proxy address, a guest's sign-in name (never an address).
      { mail: null, userPrincipalName: 'svc-backup_x.example#EXT#@fabrikam.onmicrosoft.com', displayName: 'Backup service' },
      // A guest is outside the domains; so is a member whose mail is elsewhere.
      { mail: 'pat@partner.example', userPrincipalName: 'pat_partner.example#EXT#@fabrikam.onmicrosoft.com', displayName: 'Pat Partner' },
      { mail: 'ivan@other.example', userPrincipalName: 'ivan@fabrikam.com', displayName: 'Ivan' },
      // Non-ASCII address.
      { mail: 'jürgen@fabrikam.com', userPrincipalName: 'juergen@fabrikam.com', displayName: 'Jürgen' },
      // Duplicate address of Erin.
      { mail: 'Erin@Fabrikam.com', userPrincipalName: 'erin.admin@fabrikam.com', displayName: 'Erin (admin)' },
      // An alias another user has too, and an alias that is Erin's address.
      { mail: 'finn@fabrikam.com', userPrincipalName: 'finn@fabrikam.com', displayName: 'Finn', proxyAddresses: ['SMTP:finn@fabrikam.com', 'smtp:shared.alias@fabrikam.com', 'smtp:erin@fabrikam.com', 'smtp:f@fabrikam.com'] },
    ],
    groups: [
      { displayName: 'All', mail: 'all@fabrikam.com', members: ['erin@fabrikam.com', 'finn@fabrikam.com'] },
      { displayName: 'Secret', mail: 'secret@fabrikam.com', members: ['erin@fabrikam.com'], hiddenMembership: true },
    ],
  });
  const d = await readGraphDirectory(client(FABRIKAM_ID), ['fabrikam.com']);
  assert.deepEqual(d.skipped, { noAddress: 1, otherDomain: 2, nonAscii: 1, duplicate: 1, aliases: 4, groups: 1 });
  assert.deepEqual(d.users.map((u) => [u.email, u.aliases ?? []]), [['erin@fabrikam.com', []], ['finn@fabrikam.com', ['f@fabrikam.com']]]);
  const w = d.warnings.join('\n');
  for (const expected of [
    /svc-backup_x\.example#EXT#@fabrikam\.onmicrosoft\.com \(Backup service\): no e-mail address/,
    /guest pat_partner\.example#EXT#@fabrikam\.onmicrosoft\.com \(Pat Partner\): address pat@partner\.example is outside the tenant's domains/,
    /ivan@fabrikam\.com \(Ivan\): address ivan@other\.example is outside the tenant's domains/,
    /juergen@fabrikam\.com \(Jürgen\): address jürgen@fabrikam\.com has non-ASCII characters/,
    /two enabled users have the address erin@fabrikam\.com; kept the first \(erin@fabrikam\.com \(Erin\)\), left out erin\.admin@fabrikam\.com/,
    /erin@fabrikam\.com: alias zoë@fabrikam\.com is not an address the snapshot can hold/,
    /erin@fabrikam\.com: alias shared\.alias@fabrikam\.com is an alias of another user too; dropped from both/,
    /finn@fabrikam\.com: alias shared\.alias@fabrikam\.com is an alias of another user too/,
    /finn@fabrikam\.com: alias erin@fabrikam\.com is the address of erin@fabrikam\.com; dropped from finn@fabrikam\.com/,
    /group secret@fabrikam\.com: members not readable/,
  ]) assert.match(w, expected);
  assert.equal(d.warnings.length, 10);

  // The snapshot written from it validates with the loader the relay uses.
  const root = makeConfig(h.dir, 'bad-input');
  const fabrikamFile = join(root, 'tenants', 'fabrikam.yaml');
  writeFile(fabrikamFile, readFileSync(fabrikamFile, 'utf8').replace(/ {2}source: file\n {2}file: directory\/fabrikam\.yaml\n/, '  source: graph\n'));
  const loadedBefore = await loadValidConfig(root);
  const fabrikam = loadedBefore.config.tenants.find((t) => t.slug === 'fabrikam')!;
  const r = await syncGraphSnapshot({
    root,
    tenant: fabrikam,
    previous: undefined,
    use: directoryUse(fabrikam, loadedBefore.config.templates),
    tokens: graphTokenProvider({ credentials, loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert }),
    graphUrl: h.graph.url,
    validate: async (dir) => {
      const check = await loadConfigRepo(dir);
      return check.ok ? { ok: true } : { ok: false, errors: check.errors };
    },
  });
  assert.equal(r.written, true);
  assert.equal(r.users, 2);
  // Fabrikam's rules and templates use no groups: none are read, so none is unreadable.
  assert.deepEqual(r.skipped, { ...d.skipped, groups: 0 });
  assert.equal(r.groups, 0);

  // The CLI prints each count and each warning.
  const cli = await sigops(h, ['directory', 'sync', '--config', root, '--tenant', 'fabrikam']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /skipped: 1 without a usable e-mail address, 2 with an address outside the tenant's domains, 1 with a non-ASCII address, 1 duplicate addresses, 4 aliases \(non-ASCII or claimed twice\)$/m);
  assert.equal(cli.stderr.split('\n').filter((l) => l.startsWith('sigops directory sync: warning: ')).length, 9);
});

function writeFile(path: string, text: string): void {
  // Fails loudly when a replace above found nothing (the example config changed shape).
  assert.notEqual(readFileSync(path, 'utf8'), text, `nothing changed in ${path}`);
  writeFileSyncReal(path, text);
}
import { writeFileSync as writeFileSyncReal } from 'node:fs';
