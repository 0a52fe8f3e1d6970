// The complete set of helpers templates may call. Kept small on purpose: every helper takes
// plain values, returns plain strings or booleans (so Handlebars still HTML-escapes the
// output), and never throws on odd input (a missing attribute is `undefined`).
import type { HelperOptions } from 'handlebars';

type Helper = (...args: unknown[]) => unknown;

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return '';
}

/** Drops Handlebars' trailing options argument. */
function params(args: unknown[]): unknown[] {
  return args.slice(0, -1);
}

function options(args: unknown[]): HelperOptions {
  return args[args.length - 1] as HelperOptions;
}

/** `now` from the render context (templates need not pass it). */
function nowOf(args: unknown[]): Date {
  const p = params(args);
  const first = p[0];
  if (first instanceof Date) return first;
  const root = (options(args).data as { root?: { now?: unknown } } | undefined)?.root;
  return root?.now instanceof Date ? root.now : new Date(0);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Formats a date (UTC) with tokens YYYY, MMMM (January), MMM (Jan), MM (01), M, DD (05), D. */
export function formatDate(d: Date, format: string): string {
  return format.replace(/YYYY|MMMM|MMM|MM|M|DD|D/g, (token) => {
    switch (token) {
      case 'YYYY': return String(d.getUTCFullYear());
      case 'MMMM': return MONTHS[d.getUTCMonth()] ?? '';
      case 'MMM': return (MONTHS[d.getUTCMonth()] ?? '').slice(0, 3);
      case 'MM': return pad(d.getUTCMonth() + 1);
      case 'M': return String(d.getUTCMonth() + 1);
      case 'DD': return pad(d.getUTCDate());
      default: return String(d.getUTCDate());
    }
  });
}

/** Display form of a phone number: keeps digits, one leading +, spaces, dashes, dots, parentheses; collapses spaces. */
export function formatPhone(value: unknown): string {
  const s = str(value).replace(/[^0-9+()\-. \t]/g, '').replace(/\s+/g, ' ').trim();
  return s.replace(/(?!^)\+/g, '');
}

/** `tel:` URI form: a leading + and digits only. */
export function telUri(value: unknown): string {
  const s = str(value).trim();
  const digits = s.replace(/[^0-9]/g, '');
  return digits === '' ? '' : (s.startsWith('+') ? '+' : '') + digits;
}

/** Allows only http(s), mailto and tel URLs: anything else (javascript:, data:) becomes empty. */
export function safeUrl(value: unknown): string {
  const s = str(value).trim();
  return /^(https?:\/\/|mailto:|tel:)/i.test(s) ? s : '';
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === false || (Array.isArray(v) && v.length === 0);
}

/**
 * name → [helper, min params, max params]. `if`, `unless`, `each` and `with` are Handlebars'
 * own block helpers and also allowed; `lookup` and `log` are not.
 */
export const HELPERS: Readonly<Record<string, readonly [Helper, number, number]>> = Object.freeze({
  phone: [(...a: unknown[]) => formatPhone(params(a)[0]), 1, 1],
  tel: [(...a: unknown[]) => telUri(params(a)[0]), 1, 1],
  url: [(...a: unknown[]) => safeUrl(params(a)[0]), 1, 1],
  urlencode: [(...a: unknown[]) => encodeURIComponent(str(params(a)[0])), 1, 1],
  upper: [(...a: unknown[]) => str(params(a)[0]).toUpperCase(), 1, 1],
  lower: [(...a: unknown[]) => str(params(a)[0]).toLowerCase(), 1, 1],
  default: [
    (...a: unknown[]) => {
      const p = params(a);
      for (const v of p) if (!isEmpty(v)) return v;
      return '';
    },
    2,
    8,
  ],
  eq: [(...a: unknown[]) => { const p = params(a); return str(p[0]) === str(p[1]); }, 2, 2],
  ne: [(...a: unknown[]) => { const p = params(a); return str(p[0]) !== str(p[1]); }, 2, 2],
  and: [(...a: unknown[]) => params(a).every((v) => !isEmpty(v)), 2, 8],
  or: [(...a: unknown[]) => params(a).some((v) => !isEmpty(v)), 2, 8],
  not: [(...a: unknown[]) => isEmpty(params(a)[0]), 1, 1],
  year: [(...a: unknown[]) => String(nowOf(a).getUTCFullYear()), 0, 1],
  // {{image "logo.png"}}: the address of an image under images/, `cid:…` when the rule embeds
  // images, the tenant's base URL when it hosts them; the policy supplies the resolver
  image: [
    (...a: unknown[]) => {
      const root = (options(a).data as { root?: { images?: unknown } } | undefined)?.root;
      const resolve = root?.images;
      return typeof resolve === 'function' ? str((resolve as (name: string) => unknown)(str(params(a)[0]))) : '';
    },
    1,
    1,
  ],
  date: [
    (...a: unknown[]) => {
      const p = params(a);
      const fmt = typeof p[p.length - 1] === 'string' ? (p[p.length - 1] as string) : 'YYYY-MM-DD';
      return formatDate(nowOf(a), fmt);
    },
    0,
    2,
  ],
});

/** Handlebars' own block helpers that templates may use. */
export const BUILTIN_HELPERS: ReadonlySet<string> = new Set(['if', 'unless', 'each', 'with']);

/** Handlebars built-ins that are refused, with the reason shown to the admin. */
export const REFUSED_HELPERS: Readonly<Record<string, string>> = Object.freeze({
  lookup: "'lookup' is not allowed in templates (it reads arbitrary properties); name the attribute directly, e.g. {{user.department}}",
  log: "'log' is not allowed in templates",
  helperMissing: "'helperMissing' is internal to Handlebars and not allowed",
  blockHelperMissing: "'blockHelperMissing' is internal to Handlebars and not allowed",
});

export const HELPER_NAMES: readonly string[] = Object.freeze([...BUILTIN_HELPERS, ...Object.keys(HELPERS)].sort());
