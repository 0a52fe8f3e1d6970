// `between:` — a date window in whole UTC days, both ends included: from 00:00 of `from` to
// 24:00 of `until`.
import type { Condition } from './types.ts';
import { mapping, text } from './values.ts';

export interface BetweenSpec {
  readonly from: string; // YYYY-MM-DD
  readonly until: string;
}

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(s: string | undefined): s is string {
  if (s === undefined || !DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

export const between: Condition<BetweenSpec> = {
  key: 'between',
  cost: 1,
  read(v) {
    const w = mapping(v);
    const from = text(w.from);
    const until = text(w.until);
    return validDate(from) && validDate(until) ? { from, until } : undefined;
  },
  check(spec, c) {
    if (spec.from > spec.until) {
      c.error(c.at(['between', 'until']), 'date-order',
        `between.until ${spec.until} is before between.from ${spec.from}; the window would never be open — swap or fix the dates`);
    }
  },
  compile(spec) {
    const from = Date.parse(`${spec.from}T00:00:00Z`);
    const until = Date.parse(`${spec.until}T00:00:00Z`) + DAY_MS; // exclusive
    // A malformed date (impossible after validation) closes the window rather than opening it.
    if (Number.isNaN(from) || Number.isNaN(until)) return () => false;
    return (m) => m.now >= from && m.now < until;
  },
  sample(spec, s) {
    const from = Date.parse(`${spec.from}T12:00:00Z`);
    const until = Date.parse(`${spec.until}T12:00:00Z`);
    const now = s.date.getTime();
    // Inside the window: the given day if it is running, else its first day.
    return now >= from && now <= until ? s : { ...s, date: new Date(from) };
  },
};
