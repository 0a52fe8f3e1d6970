// Directory attributes (`department:`, `jobTitle:`, …): every key under `when:` that no other
// condition claims. The sender's value of each must be one of the listed values, ignoring case.
// Senders missing from the directory have only `email` and `displayName` (from the From header).
import type { Condition } from './types.ts';
import { didYouMean, mapping, textList } from './values.ts';

/** Listed values by attribute name. */
export type AttributesSpec = Readonly<Record<string, readonly string[]>>;

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export const attributes: Condition<AttributesSpec> = {
  key: 'attributes',
  cost: 3,
  claims: 'other-keys',
  read(v) {
    const out = Object.create(null) as Record<string, readonly string[]>;
    let any = false;
    for (const [k, value] of Object.entries(mapping(v))) {
      if (!ATTRIBUTE_NAME.test(k)) continue;
      const list = textList(value);
      if (list) { out[k] = list; any = true; }
    }
    return any ? out : undefined;
  },
  check(spec, c) {
    for (const name of Object.keys(spec)) {
      if (c.attributes.has(name)) continue;
      c.error(c.at([], name), 'unknown-attribute',
        `rule '${c.rule.name}': '${name}' is neither a condition (${c.conditionKeys.join(', ')}) nor a directory attribute${didYouMean(name, [...c.conditionKeys, ...c.attributes])}; fix the key or add the attribute to the directory`);
    }
  },
  constrains: (spec) => Object.keys(spec).length > 0,
  directoryAttributes: (spec) => Object.keys(spec),
  compile(spec) {
    const wanted = Object.keys(spec).map((k) => [k, new Set((spec[k] ?? []).map((v) => v.toLowerCase()))] as const);
    if (wanted.length === 0) return undefined;
    return (m) => {
      for (const [name, values] of wanted) {
        const v = m.user ? m.user.attributes[name] : name === 'email' ? m.sender : name === 'displayName' ? m.from?.name : undefined;
        if (v === undefined || !values.has(v.toLowerCase())) return false;
      }
      return true;
    };
  },
};
