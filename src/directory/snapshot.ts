// Graph-source directories: `sigops directory sync` reads a tenant's users and group memberships
// from Microsoft Graph and writes them as a snapshot file (same format as a directory file),
// which the config loader then reads like any other directory. The snapshot is committed to the
// config repo, so every change to it is reviewed like the rest of the config.
//
// Requests (app-only token for Graph's `.default` scope):
//   GET /v1.0/users?$select=…&$filter=accountEnabled eq true&$top=999           all enabled users
//   GET /v1.0/groups?$select=id,mail&$filter=mailEnabled eq true&$top=999        mail-enabled groups
//   GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user?$select=id…     their users (nested too)
// Listing groups and their members costs one request per group (page) instead of one per user
// (transitiveMemberOf), and tenants have far fewer mail-enabled groups than users.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Directory, DirectoryUser, Tenant } from '../model/index.ts';
import type { RetryPolicy, Sleep, TokenProvider } from '../entra/index.ts';
import { DirectorySyncError, GraphError } from './errors.ts';
import { directoryFromData } from './file.ts';
import { GraphClient } from './graph.ts';

const USER_FIELDS = [
  'id', 'mail', 'userPrincipalName', 'displayName', 'givenName', 'surname', 'jobTitle', 'department', 'officeLocation',
  'businessPhones', 'mobilePhone', 'companyName', 'streetAddress', 'city', 'state', 'postalCode', 'country',
] as const;

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

/** One user as written to the snapshot: email first, then the attributes, then memberOf. */
export type SnapshotUser = Readonly<Record<string, string | readonly string[]>> & { readonly email: string };

export interface GraphDirectory {
  readonly users: readonly SnapshotUser[]; // sorted by email
  /** Enabled accounts left out: no (valid) address, or an address outside the tenant's domains. */
  readonly skipped: { readonly noAddress: number; readonly otherDomain: number; readonly duplicate: number };
  readonly groups: number; // mail-enabled groups read
  readonly warnings: readonly string[];
}

/** The schema's `format: email` (ajv-formats, full mode): an address it refuses would make the whole snapshot invalid. */
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * The address a user sends from: `mail`, or else the userPrincipalName when it is a real
 * address of the tenant (not a guest's #EXT# name). Lower-case.
 */
function addressOf(u: Record<string, unknown>): string | undefined {
  const mail = text(u.mail);
  if (mail) return mail.toLowerCase();
  const upn = text(u.userPrincipalName);
  if (upn && !upn.includes('#EXT#')) return upn.toLowerCase();
  return undefined;
}

/** Reads users and group memberships of one tenant from Graph and maps them to directory users. */
export async function readGraphDirectory(client: GraphClient, domains: readonly string[], concurrency = 4): Promise<GraphDirectory> {
  const own = new Set(domains.map((d) => d.toLowerCase()));
  const rawUsers = await client.list(`/v1.0/users?$select=${USER_FIELDS.join(',')}&$filter=${encodeURIComponent('accountEnabled eq true')}&$top=999`);
  const rawGroups = await client.list(`/v1.0/groups?$select=id,mail&$filter=${encodeURIComponent('mailEnabled eq true')}&$top=999`);
  const warnings: string[] = [];

  // Members of each group (nested groups resolved by Graph), a few groups at a time.
  const groups = rawGroups
    .map((g) => ({ id: text(g.id), mail: text(g.mail)?.toLowerCase() }))
    .filter((g): g is { id: string; mail: string } => g.id !== undefined && g.mail !== undefined && EMAIL.test(g.mail));
  const memberOf = new Map<string, Set<string>>(); // user id → group mails
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
          warnings.push(`group ${g.mail}: members not readable (${err.message}); left out of memberOf`);
          continue;
        }
        throw err;
      }
      for (const m of members) {
        const id = text(m.id);
        if (!id) continue;
        let set = memberOf.get(id);
        if (!set) memberOf.set(id, (set = new Set()));
        set.add(g.mail);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, groups.length)) }, worker));

  const skipped = { noAddress: 0, otherDomain: 0, duplicate: 0 };
  const byEmail = new Map<string, SnapshotUser>();
  for (const u of rawUsers) {
    const email = addressOf(u);
    if (!email || !EMAIL.test(email)) {
      skipped.noAddress++;
      continue;
    }
    if (!own.has(email.slice(email.lastIndexOf('@') + 1))) {
      skipped.otherDomain++;
      continue;
    }
    if (byEmail.has(email)) {
      skipped.duplicate++;
      warnings.push(`two enabled users have the address ${email}; kept the first`);
      continue;
    }
    const user: Record<string, string | readonly string[]> = { email };
    for (const [from, to] of ATTRIBUTE_MAP) {
      const raw = u[from];
      const value = Array.isArray(raw) ? text(raw.find((p) => text(p) !== undefined)) : text(raw);
      if (value !== undefined) user[to] = value;
    }
    const groupsOfUser = memberOf.get(String(u.id));
    if (groupsOfUser?.size) user.memberOf = [...groupsOfUser].sort();
    byEmail.set(email, user as SnapshotUser);
  }
  const users = [...byEmail.values()].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  return { users, skipped, groups: groups.length, warnings };
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

/** What the sync needs from the config loader (loadConfigRepo), injected to keep config → directory acyclic. */
export type SnapshotValidator = (root: string) => Promise<{ ok: true } | { ok: false; errors: ReadonlyArray<{ file: string; line: number; col: number; message: string }> }>;

export interface SyncOptions {
  readonly root: string; // absolute config root
  readonly tenant: Tenant;
  /** The tenant's directory as currently loaded (undefined: no snapshot yet). */
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
  readonly skipped: GraphDirectory['skipped'];
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
  const graph = await readGraphDirectory(client, tenant.domains);
  const previousText = await readFile(path, 'utf8').catch(() => undefined);
  const content = renderSnapshot(graph.users, { slug: tenant.slug, schemaLine: schemaLineFor(root, path, previousText) });
  const { directory } = directoryFromData({ users: graph.users });
  const changes = diffDirectories(options.previous, directory);
  const result = { file, users: graph.users.length, groups: graph.groups, changes, skipped: graph.skipped, warnings: graph.warnings };
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
