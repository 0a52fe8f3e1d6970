// File-source directories: directory/<slug>.yaml (and Graph snapshots, which share the format)
// turned into the Directory model, and the hand-edited overrides merged over either. The loader
// has already validated the data against schemas/directory.schema.json; this only normalises
// it, and finds what the schema cannot see: an address claimed twice, an override for nobody.
import type { Directory, DirectoryUser } from '../model/index.ts';

/** A directory file as the schema describes it. */
export interface DirectoryFileData {
  readonly users: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export interface DuplicateUser {
  readonly email: string;
  readonly index: number; // index in users[] of the repeated entry
  readonly firstIndex: number;
}

/** Where a user claims an address: its `email` (alias undefined) or `aliases[alias]`. */
export interface AddressClaim {
  readonly index: number; // in users[]
  readonly alias?: number;
}

/** One address claimed by two users (as email or alias): the later claim is dropped. */
export interface AddressConflict {
  readonly address: string;
  readonly claim: AddressClaim;
  readonly first: AddressClaim;
}

/** Attribute names never copied into a user (they would reach JavaScript internals). */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
/** Lists, not attributes. */
const LISTS = new Set(['memberOf', 'aliases']);

function addressOf(v: unknown): string {
  return typeof v === 'string' ? v.trim().toLowerCase() : '';
}

/**
 * Builds the Directory model: users by lower-case primary address, and every address (aliases
 * too) in `addresses`; every scalar attribute kept as a string in a prototype-less record;
 * memberOf lower-cased. A repeated primary address keeps the first entry; an address claimed
 * by a second user (as email or alias) stays with the first. Both are returned so that the
 * loader can report them with their positions.
 */
export function directoryFromData(data: DirectoryFileData): { directory: Directory; duplicates: DuplicateUser[]; conflicts: AddressConflict[] } {
  const users = new Map<string, DirectoryUser>();
  const addresses = new Map<string, DirectoryUser>();
  const claims = new Map<string, AddressClaim>();
  const duplicates: DuplicateUser[] = [];
  const conflicts: AddressConflict[] = [];
  const entries: { index: number; raw: Readonly<Record<string, unknown>>; email: string }[] = [];
  // Primary addresses first, so that an alias never takes the address another user has as email.
  data.users.forEach((raw, index) => {
    const email = addressOf(raw.email);
    if (email === '') return;
    const seen = claims.get(email);
    if (seen !== undefined) {
      duplicates.push({ email, index, firstIndex: seen.index });
      return;
    }
    claims.set(email, { index });
    entries.push({ index, raw, email });
  });
  for (const { index, raw, email } of entries) {
    const aliases: string[] = [];
    if (Array.isArray(raw.aliases)) {
      raw.aliases.forEach((a, alias) => {
        const address = addressOf(a);
        if (address === '' || address === email || aliases.includes(address)) return;
        const seen = claims.get(address);
        if (seen !== undefined) {
          conflicts.push({ address, claim: { index, alias }, first: seen });
          return;
        }
        claims.set(address, { index, alias });
        aliases.push(address);
      });
    }
    const user = userFromData(raw, email, aliases);
    users.set(email, user);
    addresses.set(email, user);
    for (const a of aliases) addresses.set(a, user);
  }
  return { directory: Object.freeze({ users, addresses }), duplicates, conflicts };
}

export function userFromData(raw: Readonly<Record<string, unknown>>, email: string, aliases: readonly string[] = []): DirectoryUser {
  const attributes = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(raw)) {
    if (FORBIDDEN.has(key) || LISTS.has(key)) continue;
    const v = raw[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') attributes[key] = String(v);
  }
  attributes.email = email;
  const memberOf = Array.isArray(raw.memberOf)
    ? Object.freeze([...new Set(raw.memberOf.filter((g): g is string => typeof g === 'string').map((g) => g.trim().toLowerCase()))])
    : Object.freeze([] as string[]);
  const displayName = attributes.displayName;
  return Object.freeze({
    email,
    ...(aliases.length ? { aliases: Object.freeze([...aliases]) } : {}),
    ...(displayName !== undefined ? { displayName } : {}),
    memberOf,
    attributes: Object.freeze(attributes),
  });
}

/** Every attribute name that at least one user has (memberOf included). */
export function attributeNames(directory: Directory): Set<string> {
  const names = new Set<string>(['email', 'displayName', 'memberOf']);
  for (const u of directory.users.values()) for (const k of Object.keys(u.attributes)) names.add(k);
  return names;
}

/** The overrides merged over a directory, and which entries found nobody. */
export interface MergedDirectory {
  readonly data: DirectoryFileData;
  /** Index in the overrides' users[] of each override applied, by index of the user it changed. */
  readonly overrideOf: ReadonlyMap<number, number>;
  /** Indexes in the overrides' users[] of entries whose address is no user's (email or alias). */
  readonly unknown: readonly number[];
  /** Indexes in the overrides' users[] of a second entry for the same user, and of the first. */
  readonly repeated: ReadonlyArray<{ readonly index: number; readonly firstIndex: number }>;
}

/**
 * Merges hand-edited overrides over a directory (a file or a Graph snapshot). An override
 * names its user by any of the user's addresses; per attribute the override wins, and a list
 * it gives (memberOf, aliases) replaces the user's. The user keeps its primary address.
 * Overrides for no user are left out (the loader warns): they add nobody.
 */
export function mergeOverrides(base: DirectoryFileData, overrides: DirectoryFileData): MergedDirectory {
  const byAddress = new Map<string, number>();
  base.users.forEach((u, i) => {
    const email = addressOf(u.email);
    if (email !== '' && !byAddress.has(email)) byAddress.set(email, i);
  });
  base.users.forEach((u, i) => {
    if (!Array.isArray(u.aliases)) return;
    for (const a of u.aliases) {
      const address = addressOf(a);
      if (address !== '' && !byAddress.has(address)) byAddress.set(address, i);
    }
  });
  const users = [...base.users];
  const overrideOf = new Map<number, number>();
  const unknown: number[] = [];
  const repeated: { index: number; firstIndex: number }[] = [];
  overrides.users.forEach((o, j) => {
    const target = byAddress.get(addressOf(o.email));
    if (target === undefined) {
      unknown.push(j);
      return;
    }
    const first = overrideOf.get(target);
    if (first !== undefined) {
      repeated.push({ index: j, firstIndex: first });
      return;
    }
    overrideOf.set(target, j);
    const merged: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(users[target]!)) merged[k] = v;
    for (const [k, v] of Object.entries(o)) if (k !== 'email' && !FORBIDDEN.has(k)) merged[k] = v;
    users[target] = merged;
  });
  return { data: { users }, overrideOf, unknown, repeated };
}
