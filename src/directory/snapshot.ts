// Graph-source directories: `sigops directory sync` reads a tenant's users and group memberships
// from Microsoft Graph and writes them as a snapshot file (same format as a directory file),
// which the config loader then reads like any other directory. The snapshot is committed to the
// config repo, so every change to it is reviewed like the rest of the config.
//
// Requests (app-only token for Graph's `.default` scope):
//   GET /v1.0/users?$select=…&$filter=accountEnabled eq true&$top=999           all enabled users
//   GET /v1.0/groups?$select=id,mail&$filter=mailEnabled eq true&$top=999        mail-enabled groups
//   GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user?$select=id…     their users (nested too)
// and, for a tenant that includes shared / room / equipment mailboxes (directory.mailboxes):
//   GET /v1.0/users?$select=…&$filter=accountEnabled eq false&$top=999          disabled accounts
//   GET /v1.0/users/{id}/mailboxSettings/userPurpose                            per such account with an address
// $select holds only what matching needs (id, mail, userPrincipalName, proxyAddresses) and the
// properties behind the attributes the tenant's templates and rules use; groups are read only
// when something uses memberOf. Listing groups and their members costs one request per group
// (page) instead of one per user (transitiveMemberOf), and tenants have far fewer mail-enabled
// groups than users.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { existsSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { MAILBOX_KINDS, type Directory, type DirectoryUser, type MailboxKind, type Tenant } from '../model/index.ts';
import type { RetryPolicy, Sleep, TokenProvider } from '../entra/index.ts';
import { DirectorySyncError, GraphError, GraphPermissionError, MAILBOX_PERMISSION_ADVICE } from './errors.ts';
import { directoryFromData } from './file.ts';
import { GraphClient } from './graph.ts';
import { EVERY_ATTRIBUTE, type DirectoryUse } from './uses.ts';

/** Always read: the object id (group members are ids) and every address of the user (matching). */
const MATCHING_FIELDS = ['id', 'mail', 'userPrincipalName', 'proxyAddresses'] as const;

/** Graph property → directory attribute (schemas/directory.schema.json), in the order written. */
const ATTRIBUTE_MAP: ReadonlyArray<readonly [string, string]> = [
  ['displayName', 'displayName'],
  ['givenName', 'givenName'],
  ['surname', 'surname'],
  ['jobTitle', 'jobTitle'],
  ['department', 'department'],
  ['companyName', 'company'],
  ['officeLocation', 'officeLocation'],
  ['streetAddress', 'streetAddress'],
  ['city', 'city'],
  ['state', 'state'],
  ['postalCode', 'postalCode'],
  ['country', 'country'],
  ['businessPhones', 'phone'], // the first one
  ['mobilePhone', 'mobile'],
];

/**
 * The directory attributes a Graph snapshot can hold: `validate` warns about a template or
 * rule of a graph tenant that uses another one (unless the tenant's overrides set it).
 */
export const GRAPH_ATTRIBUTES: ReadonlySet<string> = new Set(['email', 'aliases', 'memberOf', 'mailboxType', ...ATTRIBUTE_MAP.map(([, a]) => a)]);

/** The Graph properties a sync reads for a use: matching's, then the mapped ones in map order. */
export function graphUserFields(use: DirectoryUse = EVERY_ATTRIBUTE): string[] {
  const mapped = ATTRIBUTE_MAP.filter(([, a]) => use.attributes === 'all' || use.attributes.has(a)).map(([g]) => g);
  return [...MATCHING_FIELDS, ...mapped];
}

/** One user as written to the snapshot: email first, then the attributes, then memberOf. */
export type SnapshotUser = Readonly<Record<string, string | readonly string[]>> & { readonly email: string };

/** What a sync left out of the snapshot (each also named in `warnings`), by reason. */
export interface SkippedCounts {
  /** Accounts without any address (no mail, no SMTP proxy address, no usable sign-in name). */
  readonly noAddress: number;
  /** Accounts whose address is outside the tenant's domains (guests, other tenants' addresses). */
  readonly otherDomain: number;
  /** Accounts whose address has non-ASCII characters (not an address the snapshot format accepts). */
  readonly nonAscii: number;
  /** Accounts with an address another account already has. */
  readonly duplicate: number;
  /** Aliases dropped: non-ASCII, or an address another account has too. */
  readonly aliases: number;
  /** Mail-enabled groups whose members could not be read: left out of memberOf. */
  readonly groups: number;
}

/** The skipped counts in words, one phrase per non-zero reason (for the CLI's summary and the sync pull request). */
export function describeSkipped(s: SkippedCounts): string[] {
  return [
    s.noAddress ? `${s.noAddress} without a usable e-mail address` : '',
    s.otherDomain ? `${s.otherDomain} with an address outside the tenant's domains` : '',
    s.nonAscii ? `${s.nonAscii} with a non-ASCII address` : '',
    s.duplicate ? `${s.duplicate} duplicate addresses` : '',
    s.aliases ? `${s.aliases} aliases (non-ASCII or claimed twice)` : '',
    s.groups ? `${s.groups} groups whose members cannot be read` : '',
  ].filter(Boolean);
}

export interface GraphDirectory {
  readonly users: readonly SnapshotUser[]; // sorted by email
  readonly skipped: SkippedCounts;
  readonly groups: number; // mail-enabled groups read
  /** Shared / room / equipment mailboxes included (directory.mailboxes). */
  readonly mailboxes: number;
  /** One line per account, alias or group left out, naming it, and per other problem. */
  readonly warnings: readonly string[];
}

/** How readGraphDirectory reads. */
export interface GraphReadOptions {
  /** Group member lists read at a time (default 4). */
  readonly concurrency?: number;
  /** What the tenant's templates and rules use (default: every attribute, and groups). */
  readonly use?: DirectoryUse;
  /** Non-personal mailboxes to include (default none). */
  readonly mailboxes?: readonly MailboxKind[];
}

/** The schema's `format: email` (ajv-formats, full mode): an address it refuses would make the whole snapshot invalid. */
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * The SMTP addresses in `proxyAddresses`, lower-case, the primary first. Graph's user resource
 * documents the format: `SMTP:` (upper case) marks the primary address, `smtp:` the secondary
 * ones; other types (X500:, SIP:, SPO:, EUM: …) are not addresses mail is sent from.
 */
function smtpAddresses(v: unknown): { primary?: string; secondary: string[] } {
  const secondary: string[] = [];
  let primary: string | undefined;
  if (!Array.isArray(v)) return { secondary };
  for (const p of v) {
    if (typeof p !== 'string') continue;
    const colon = p.indexOf(':');
    if (colon < 0 || p.slice(0, colon).toLowerCase() !== 'smtp') continue;
    const address = p.slice(colon + 1).trim().toLowerCase();
    if (address === '') continue;
    if (p.startsWith('SMTP:') && primary === undefined) primary = address;
    else secondary.push(address);
  }
  return { ...(primary !== undefined ? { primary } : {}), secondary };
}

/**
 * The address a user sends from: `mail`, else the primary SMTP proxy address, else the
 * userPrincipalName when it is a real address of the tenant (not a guest's #EXT# name). Lower-case.
 */
function addressOf(u: Record<string, unknown>, proxies: { primary?: string }): string | undefined {
  const mail = text(u.mail);
  if (mail) return mail.toLowerCase();
  if (proxies.primary) return proxies.primary;
  const upn = text(u.userPrincipalName);
  if (upn && !upn.includes('#EXT#')) return upn.toLowerCase();
  return undefined;
}

/** How an account is named in a warning: its sign-in name (or id) and display name. */
function who(u: Record<string, unknown>): string {
  const name = text(u.userPrincipalName) ?? `id ${text(u.id) ?? '?'}`;
  const display = text(u.displayName);
  return display ? `${name} (${display})` : name;
}

function isGuest(u: Record<string, unknown>): boolean {
  return text(u.userPrincipalName)?.includes('#EXT#') ?? false;
}

/** An account of Graph on its way into the snapshot. */
interface Candidate {
  readonly raw: Record<string, unknown>;
  readonly email: string;
  readonly aliases: readonly string[];
  readonly mailboxType?: MailboxKind;
}

/** Reads users and group memberships of one tenant from Graph and maps them to directory users. */
export async function readGraphDirectory(client: GraphClient, domains: readonly string[], options: GraphReadOptions | number = {}): Promise<GraphDirectory> {
  // A number is the concurrency, as the first version of this function took it.
  const o: GraphReadOptions = typeof options === 'number' ? { concurrency: options } : options;
  const use = o.use ?? EVERY_ATTRIBUTE;
  const concurrency = o.concurrency ?? 4;
  const mailboxKinds = new Set(o.mailboxes ?? []);
  const own = new Set(domains.map((d) => d.toLowerCase()));
  const inTenant = (address: string): boolean => own.has(address.slice(address.lastIndexOf('@') + 1));
  const select = graphUserFields(use).join(',');
  const warnings: string[] = [];
  const skipped = { noAddress: 0, otherDomain: 0, nonAscii: 0, duplicate: 0, aliases: 0, groups: 0 };

  const rawUsers = await client.list(`/v1.0/users?$select=${select}&$filter=${encodeURIComponent('accountEnabled eq true')}&$top=999`);
  const memberOf = use.groups ? await readMemberships(client, concurrency, warnings, skipped) : { groups: 0, byUser: new Map<string, Set<string>>() };

  // The address of each account, or why it has none the snapshot could hold.
  const candidate = (u: Record<string, unknown>, mailboxType?: MailboxKind): Candidate | undefined => {
    const proxies = smtpAddresses(u.proxyAddresses);
    const email = addressOf(u, proxies);
    if (!email) {
      skipped.noAddress++;
      warnings.push(`${who(u)}: no e-mail address (no mail, no SMTP proxy address); left out`);
      return undefined;
    }
    if (NON_ASCII.test(email)) {
      skipped.nonAscii++;
      warnings.push(`${who(u)}: address ${email} has non-ASCII characters, which the snapshot cannot hold; left out`);
      return undefined;
    }
    if (!EMAIL.test(email)) {
      skipped.noAddress++;
      warnings.push(`${who(u)}: ${email} is not a valid e-mail address; left out`);
      return undefined;
    }
    if (!inTenant(email)) {
      skipped.otherDomain++;
      warnings.push(`${isGuest(u) ? 'guest ' : ''}${who(u)}: address ${email} is outside the tenant's domains; left out`);
      return undefined;
    }
    // Addresses in other domains (the tenant's onmicrosoft.com one) never reach the relay: not kept.
    const aliases = [...new Set(proxies.secondary.concat(proxies.primary ?? []))].filter((a) => a !== email && inTenant(a));
    return { raw: u, email, aliases, ...(mailboxType ? { mailboxType } : {}) };
  };

  const candidates: Candidate[] = [];
  for (const u of rawUsers) {
    const c = candidate(u);
    if (c) candidates.push(c);
  }
  let mailboxes = 0;
  if (mailboxKinds.size > 0) {
    const found = await readMailboxes(client, select, mailboxKinds, concurrency, (u) => {
      // Only accounts that could be written are worth a mailboxSettings request each.
      const proxies = smtpAddresses(u.proxyAddresses);
      const email = addressOf(u, proxies);
      return email !== undefined && !NON_ASCII.test(email) && EMAIL.test(email) && inTenant(email);
    });
    for (const { raw, kind } of found) {
      const c = candidate(raw, kind);
      if (c) {
        candidates.push(c);
        mailboxes++;
      }
    }
  }

  // Primary addresses first (in Graph's order: the first account keeps an address), then aliases.
  const byEmail = new Map<string, Candidate>();
  for (const c of candidates) {
    const first = byEmail.get(c.email);
    if (first) {
      skipped.duplicate++;
      warnings.push(`two enabled users have the address ${c.email}; kept the first (${who(first.raw)}), left out ${who(c.raw)}`);
      continue;
    }
    byEmail.set(c.email, c);
  }
  const kept = [...byEmail.values()].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  // An alias two accounts claim, or one that is another account's address, is nobody's: dropped from all.
  const claims = new Map<string, number>();
  for (const c of kept) for (const a of c.aliases) claims.set(a, (claims.get(a) ?? 0) + 1);
  const users: SnapshotUser[] = [];
  for (const c of kept) {
    const aliases: string[] = [];
    for (const a of c.aliases) {
      if (NON_ASCII.test(a) || !EMAIL.test(a)) {
        skipped.aliases++;
        warnings.push(`${c.email}: alias ${a} is not an address the snapshot can hold (non-ASCII or invalid); dropped`);
      } else if (byEmail.has(a)) {
        skipped.aliases++;
        warnings.push(`${c.email}: alias ${a} is the address of ${a}; dropped from ${c.email}`);
      } else if ((claims.get(a) ?? 0) > 1) {
        skipped.aliases++;
        warnings.push(`${c.email}: alias ${a} is an alias of another user too; dropped from both`);
      } else {
        aliases.push(a);
      }
    }
    const user: Record<string, string | readonly string[]> = { email: c.email };
    if (aliases.length) user.aliases = aliases.sort();
    if (c.mailboxType) user.mailboxType = c.mailboxType;
    for (const [from, to] of ATTRIBUTE_MAP) {
      if (use.attributes !== 'all' && !use.attributes.has(to)) continue;
      const raw = c.raw[from];
      const value = Array.isArray(raw) ? text(raw.find((p) => text(p) !== undefined)) : text(raw);
      if (value !== undefined) user[to] = value;
    }
    const groupsOfUser = memberOf.byUser.get(String(c.raw.id));
    if (groupsOfUser?.size) user.memberOf = [...groupsOfUser].sort();
    users.push(user as SnapshotUser);
  }
  return { users, skipped, groups: memberOf.groups, mailboxes, warnings };
}

/**
 * Mail-enabled groups and their (transitive) user members: user id → group addresses. A group
 * whose members cannot be read is left out of memberOf, named in a warning and counted.
 */
async function readMemberships(
  client: GraphClient,
  concurrency: number,
  warnings: string[],
  skipped: { groups: number },
): Promise<{ groups: number; byUser: Map<string, Set<string>> }> {
  const rawGroups = await client.list(`/v1.0/groups?$select=id,mail&$filter=${encodeURIComponent('mailEnabled eq true')}&$top=999`);
  const groups = rawGroups
    .map((g) => ({ id: text(g.id), mail: text(g.mail)?.toLowerCase() }))
    .filter((g): g is { id: string; mail: string } => g.id !== undefined && g.mail !== undefined && EMAIL.test(g.mail));
  const byUser = new Map<string, Set<string>>(); // user id → group mails
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < groups.length) {
      const g = groups[next++]!;
      let members: Record<string, unknown>[];
      try {
        // The OData cast is an advanced query: ConsistencyLevel eventual with $count.
        members = await client.list(`/v1.0/groups/${encodeURIComponent(g.id)}/transitiveMembers/microsoft.graph.user?$select=id&$top=999&$count=true`, {
          ConsistencyLevel: 'eventual',
        });
      } catch (err) {
        // A group deleted since it was listed, or one with hidden membership (needs
        // Member.Read.Hidden; the group list itself was readable, so this is not the app's
        // missing permission): leave it out and say so rather than fail the whole sync.
        if (err instanceof GraphError && (err.status === 404 || err.status === 403)) {
          skipped.groups++;
          warnings.push(`group ${g.mail}: members not readable (${err.message}); left out of memberOf`);
          continue;
        }
        throw err;
      }
      for (const m of members) {
        const id = text(m.id);
        if (!id) continue;
        let set = byUser.get(id);
        if (!set) byUser.set(id, (set = new Set()));
        set.add(g.mail);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, groups.length)) }, worker));
  return { groups: groups.length, byUser };
}

/**
 * The disabled accounts whose mailbox is of one of `kinds`. Shared, room and equipment
 * mailboxes have disabled accounts; Graph v1.0 tells their kind only per user, in
 * mailboxSettings.userPurpose (user, linked, shared, room, equipment, others), which needs
 * MailboxSettings.Read. A disabled account without a mailbox (a leaver) answers 404: not one.
 */
async function readMailboxes(
  client: GraphClient,
  select: string,
  kinds: ReadonlySet<MailboxKind>,
  concurrency: number,
  worthAsking: (u: Record<string, unknown>) => boolean,
): Promise<{ raw: Record<string, unknown>; kind: MailboxKind }[]> {
  const disabled = await client.list(`/v1.0/users?$select=${select}&$filter=${encodeURIComponent('accountEnabled eq false')}&$top=999`);
  const asked = disabled.filter(worthAsking);
  const found: ({ raw: Record<string, unknown>; kind: MailboxKind } | undefined)[] = new Array(asked.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < asked.length) {
      const i = next++;
      const u = asked[i]!;
      let purpose: unknown;
      try {
        purpose = (await client.get(`/v1.0/users/${encodeURIComponent(String(u.id))}/mailboxSettings/userPurpose`)).value;
      } catch (err) {
        if (err instanceof GraphError && err.status === 404) continue;
        if (err instanceof GraphPermissionError) {
          throw new GraphPermissionError({ status: err.status, code: err.code, url: err.url, message: err.message, advice: MAILBOX_PERMISSION_ADVICE });
        }
        throw err;
      }
      const kind = MAILBOX_KINDS.find((k) => k === purpose);
      if (kind && kinds.has(kind)) found[i] = { raw: u, kind };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, asked.length)) }, worker));
  return found.filter((f): f is { raw: Record<string, unknown>; kind: MailboxKind } => f !== undefined);
}

/**
 * The snapshot file's text. Deterministic: the same users give the same bytes, and nothing in
 * it depends on when it was written, so an unchanged directory gives an empty git diff.
 */
export function renderSnapshot(users: readonly SnapshotUser[], options: { slug: string; schemaLine: string }): string {
  const header = [
    options.schemaLine,
    `# Generated by \`sigops directory sync --tenant ${options.slug}\` from Microsoft Graph: do not edit by hand,`,
    '# the next sync overwrites it. Change users in Entra ID / the Microsoft 365 admin center instead.',
  ].join('\n');
  // No anchors/aliases even if two users share a memberOf array: every user reads on its own.
  const body = stringify({ users: users.map((u) => ({ ...u })) }, { lineWidth: 0, minContentWidth: 0, indentSeq: true, aliasDuplicateObjects: false });
  return `${header}\n${body}`;
}

export interface DirectoryChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Address and the names of the attributes (or memberOf) that changed. */
  readonly changed: ReadonlyArray<{ readonly email: string; readonly fields: readonly string[] }>;
}

/** What changed between two directories, by address. */
export function diffDirectories(before: Directory | undefined, after: Directory): DirectoryChanges {
  const old = before?.users ?? new Map<string, DirectoryUser>();
  const added: string[] = [];
  const removed: string[] = [];
  const changed: { email: string; fields: string[] }[] = [];
  for (const [email, u] of after.users) {
    const o = old.get(email);
    if (!o) {
      added.push(email);
      continue;
    }
    const fields = new Set<string>();
    for (const k of new Set([...Object.keys(o.attributes), ...Object.keys(u.attributes)])) {
      if (o.attributes[k] !== u.attributes[k]) fields.add(k);
    }
    if ([...o.memberOf].sort().join('\n') !== [...u.memberOf].sort().join('\n')) fields.add('memberOf');
    if ([...(o.aliases ?? [])].sort().join('\n') !== [...(u.aliases ?? [])].sort().join('\n')) fields.add('aliases');
    if (fields.size) changed.push({ email, fields: [...fields].sort() });
  }
  for (const email of old.keys()) if (!after.users.has(email)) removed.push(email);
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort((a, b) => (a.email < b.email ? -1 : 1)) };
}

/** Writes a file so readers (the relay's hot reload, git) see the old or the new text, never half. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  // Same directory as the target, so the rename never crosses file systems.
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(tmp, content, { encoding: 'utf8', flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The editor hint line: kept from the existing snapshot; otherwise a relative path to the
 * schema when the config repo (or its parent, as in the sigops project) holds schemas/, else
 * the schema's public id.
 */
function schemaLineFor(root: string, snapshotPath: string, previous: string | undefined): string {
  const kept = previous?.split(/\r?\n/, 1)[0];
  if (kept?.startsWith('# yaml-language-server:')) return kept;
  for (const dir of [root, join(root, '..')]) {
    const schema = join(dir, 'schemas', 'directory.schema.json');
    if (existsSync(schema)) return `# yaml-language-server: $schema=${relative(dirname(snapshotPath), schema).split(sep).join('/')}`;
  }
  return '# yaml-language-server: $schema=https://sigops.dev/schemas/directory.schema.json';
}

/** The users of a snapshot's text; undefined when there is none or it is not a directory file. */
function snapshotDirectory(text: string | undefined): Directory | undefined {
  if (text === undefined) return undefined;
  try {
    const data = parse(text) as { users?: unknown } | null;
    if (!data || !Array.isArray(data.users)) return undefined;
    const users = data.users.filter((u): u is Record<string, unknown> => u !== null && typeof u === 'object' && !Array.isArray(u));
    return directoryFromData({ users }).directory;
  } catch {
    return undefined;
  }
}

/** What the sync needs from the config loader (loadConfigRepo), injected to keep config → directory acyclic. */
export type SnapshotValidator = (root: string) => Promise<{ ok: true } | { ok: false; errors: ReadonlyArray<{ file: string; line: number; col: number; message: string }> }>;

export interface SyncOptions {
  readonly root: string; // absolute config root
  readonly tenant: Tenant;
  /**
   * What the tenant's templates and rules use (directoryUse(tenant, config.templates)): only
   * those Graph properties are read. Absent: every attribute sigops maps, and the groups.
   */
  readonly use?: DirectoryUse;
  /**
   * The tenant's directory as currently loaded (undefined: no snapshot yet). Changes are
   * counted against the snapshot file itself when it can be read (the loaded directory has the
   * overrides merged in); this is the fallback.
   */
  readonly previous: Directory | undefined;
  readonly tokens: TokenProvider;
  readonly graphUrl?: string;
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
  readonly retry?: RetryPolicy;
  readonly validate: SnapshotValidator;
}

export interface SyncResult {
  readonly file: string; // relative to the root
  readonly written: boolean; // false: identical to the snapshot already there
  readonly users: number;
  readonly groups: number;
  readonly changes: DirectoryChanges;
  readonly skipped: SkippedCounts;
  /** Shared / room / equipment mailboxes among `users`. */
  readonly mailboxes: number;
  readonly warnings: readonly string[];
}

/** Refreshes one graph tenant's snapshot: read Graph, write atomically when changed, validate. */
export async function syncGraphSnapshot(options: SyncOptions): Promise<SyncResult> {
  const { tenant, root } = options;
  if (tenant.directory.source !== 'graph') {
    throw new DirectorySyncError(
      'not-graph',
      `tenant ${tenant.slug} reads its directory from a file (${tenant.directory.file}), not from Microsoft Graph: nothing to sync`,
      `Edit ${tenant.directory.file} directly, or set \`directory: { source: graph }\` in ${tenant.file} to have sigops keep a Graph snapshot.`,
    );
  }
  const file = tenant.directory.snapshot;
  const path = join(root, ...file.split('/'));
  const client = new GraphClient({
    tenantId: tenant.id,
    tokens: options.tokens,
    ...(tenant.cloud ? { cloud: tenant.cloud } : {}),
    ...(options.graphUrl ? { graphUrl: options.graphUrl } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const graph = await readGraphDirectory(client, tenant.domains, {
    ...(options.use ? { use: options.use } : {}),
    ...(tenant.directory.mailboxes ? { mailboxes: tenant.directory.mailboxes } : {}),
  });
  const previousText = await readFile(path, 'utf8').catch(() => undefined);
  const content = renderSnapshot(graph.users, { slug: tenant.slug, schemaLine: schemaLineFor(root, path, previousText) });
  const { directory } = directoryFromData({ users: graph.users });
  // What changed in the snapshot itself: the loaded directory has the overrides merged in, which
  // the new snapshot has not, so diff against the file as it was whenever it can be read.
  const changes = diffDirectories(snapshotDirectory(previousText) ?? options.previous, directory);
  const result = { file, users: graph.users.length, groups: graph.groups, changes, skipped: graph.skipped, mailboxes: graph.mailboxes, warnings: graph.warnings };
  if (previousText === content) return { ...result, written: false };

  await writeFileAtomic(path, content);
  const check = await options.validate(root);
  if (!check.ok) {
    // Never leave a snapshot the relay would refuse: put the previous one back.
    if (previousText === undefined) await rm(path, { force: true });
    else await writeFileAtomic(path, previousText);
    const lines = check.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`);
    throw new DirectorySyncError('invalid-snapshot', `the new snapshot does not validate, previous one kept:\n${lines.join('\n')}`);
  }
  return { ...result, written: true };
}
