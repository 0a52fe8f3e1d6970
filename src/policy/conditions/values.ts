// Best-effort readers of YAML values, for data that passed its schema or not (wrong types are
// dropped: the schema reports them). Shared by the conditions and the tenant loader.
import { closestName } from '../../signature/index.ts';
import type { ConditionCheckContext, Position } from './types.ts';

/** A mapping, or an empty one. */
export function mapping(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Strings of a string-or-list value; anything else is dropped (the schema reports it). */
export function textList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return undefined;
}

/** A lower-cased string-or-list value. */
export function lowerCaseList(v: unknown): string[] | undefined {
  return textList(v)?.map((s) => s.toLowerCase());
}

/** ` (did you mean 'x'?)` when a close name exists, else ''. */
export function didYouMean(name: string, options: Iterable<string>): string {
  const best = closestName(name, options);
  return best ? ` (did you mean '${best}'?)` : '';
}

/** Where the j-th item of a condition's string-or-list value was written (the value itself for a single string). */
export function itemAt(context: ConditionCheckContext, key: string, j: number): Position {
  return Array.isArray(context.raw) ? context.at([key, j]) : context.at([key]);
}
