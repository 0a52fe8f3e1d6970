// A rule condition that exists only in the tests: `weekdays: [saturday, sunday]`, the UTC day of
// the week. Written exactly like the modules in src/policy/conditions/, to show that a new
// condition is this one file (plus, for real, its entry in schemas/tenant.schema.json).
import type { Condition } from '../../../src/policy/conditions/index.ts';
import { itemAt, lowerCaseList } from '../../../src/policy/conditions/values.ts';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DAY_MS = 86_400_000;

/** Lower-case day names. */
export type WeekdaysSpec = readonly string[];

export const weekdays: Condition<WeekdaysSpec> = {
  key: 'weekdays',
  read: lowerCaseList,
  check(spec, c) {
    spec.forEach((day, j) => {
      if (!DAYS.includes(day)) c.error(itemAt(c, 'weekdays', j), 'unknown-weekday', `'${day}' is not a day of the week (${DAYS.join(', ')})`);
    });
  },
  compile(spec) {
    const days = new Set(spec.map((d) => DAYS.indexOf(d)));
    return (m) => days.has(new Date(m.now).getUTCDay());
  },
  sample(spec, s) {
    const days = new Set(spec.map((d) => DAYS.indexOf(d)));
    for (let i = 0; i < 7; i++) {
      const date = new Date(s.date.getTime() + i * DAY_MS);
      if (days.has(date.getUTCDay())) return { ...s, date };
    }
    return s;
  },
};
