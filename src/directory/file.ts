// File-source directories: directory/<slug>.yaml (and Graph snapshots, which share the format)
// turned into the Directory model. The loader has already validated the data against
// schemas/directory.schema.json; this only normalises it.
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

/** Attribute names never copied into a user (they would reach JavaScript internals). */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Builds the Directory model: users by lower-case address; every scalar attribute kept as a
 * string in a prototype-less record; memberOf lower-cased. Repeated addresses keep the first
 * entry and are returned so the loader can report them.
 */
export function directoryFromData(data: DirectoryFileData): { directory: Directory; duplicates: DuplicateUser[] } {
  const users = new Map<string, DirectoryUser>();
  const firstIndex = new Map<string, number>();
  const duplicates: DuplicateUser[] = [];
  data.users.forEach((raw, index) => {
    const email = String(raw.email ?? '').trim().toLowerCase();
    if (email === '') return;
    const seen = firstIndex.get(email);
    if (seen !== undefined) {
      duplicates.push({ email, index, firstIndex: seen });
      return;
    }
    firstIndex.set(email, index);
    users.set(email, userFromData(raw, email));
  });
  return { directory: Object.freeze({ users }), duplicates };
}

export function userFromData(raw: Readonly<Record<string, unknown>>, email: string): DirectoryUser {
  const attributes = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(raw)) {
    if (FORBIDDEN.has(key) || key === 'memberOf') continue;
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
