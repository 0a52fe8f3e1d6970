// A condition whose YAML is a list of a few named values, matched against one fact of the
// message: `messageType: [reply, forward]`, `sentAs: [shared]`. Unknown names are refused by the
// schema (with positions); here they are dropped, duplicates kept once in the order written.
import type { Condition, MessageFacts, MessageSample } from './types.ts';
import { textList } from './values.ts';

export function oneOfCondition<T extends string>(
  key: string,
  values: readonly T[],
  fact: (m: MessageFacts) => T,
  sampled: (sample: MessageSample, value: T) => MessageSample,
): Condition<readonly T[]> {
  const known: ReadonlySet<string> = new Set(values);
  return {
    key,
    cost: 1,
    read(v) {
      const list = textList(v)?.filter((t): t is T => known.has(t));
      return list && list.length > 0 ? [...new Set(list)] : undefined;
    },
    constrains: (spec) => values.some((t) => !spec.includes(t)),
    compile(spec) {
      if (values.every((t) => spec.includes(t))) return undefined;
      const [a, b] = spec;
      // one or two values: compared directly, no set
      return b === undefined ? (m) => fact(m) === a : (m) => fact(m) === a || fact(m) === b;
    },
    sample: (spec, s) => sampled(s, spec[0] ?? values[0]!),
  };
}
