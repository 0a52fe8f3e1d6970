// The registry of rule conditions. The config loader reads and checks `when:` through it,
// decide() matches through it and the Action's preview samples through it; none of them knows
// the individual conditions. Adding a condition: one module in this folder, listed below; its
// entry in schemas/tenant.schema.json (a property of `$defs.condition`, and its key in the
// attribute pattern's exclusions); its test under test/policy/conditions/.
import type { Rule, RuleConditions } from '../../model/index.ts';
import { attributes } from './attributes.ts';
import { between } from './between.ts';
import { memberOf } from './member-of.ts';
import { messageType } from './message-type.ts';
import { recipientDomains } from './recipient-domains.ts';
import { recipients } from './recipients.ts';
import { senders } from './senders.ts';
import { sentAs } from './sent-as.ts';
import type { Condition, MatchCost, MessageSample, MessageTest, RuleCheckContext } from './types.ts';
import { mapping } from './values.ts';

export type * from './types.ts';

/**
 * The spec a condition keeps in `Rule.when`. The one place an opaque entry becomes a
 * condition's Spec: entries are written by that condition's read() (or by hand, in its shape).
 */
function specOf<S>(condition: Condition<S>, when: RuleConditions): S | undefined {
  return when[condition.key] as S | undefined;
}

/** A condition with its Spec type erased, so that conditions of every kind fit one list. */
interface Registered {
  readonly key: string;
  readonly claimsOtherKeys: boolean;
  readonly cost: MatchCost;
  read(value: unknown): unknown;
  check(when: RuleConditions, raw: unknown, context: RuleCheckContext, conditionKeys: readonly string[]): void;
  constrains(when: RuleConditions): boolean;
  compile(when: RuleConditions): MessageTest | undefined;
  sample(when: RuleConditions, sample: MessageSample): MessageSample;
  directoryAttributes(when: RuleConditions): readonly string[];
}

function register<S>(c: Condition<S>): Registered {
  return {
    key: c.key,
    claimsOtherKeys: c.claims === 'other-keys',
    cost: c.cost ?? 3,
    read: (value) => c.read(value),
    check(when, raw, context, conditionKeys) {
      const spec = specOf(c, when);
      if (spec === undefined || !c.check) return;
      c.check(spec, { ...context, raw, conditionKeys, sibling: (other) => specOf(other, when) });
    },
    constrains(when) {
      const spec = specOf(c, when);
      return spec !== undefined && (c.constrains?.(spec) ?? true);
    },
    compile(when) {
      const spec = specOf(c, when);
      return spec === undefined ? undefined : c.compile(spec);
    },
    sample(when, sample) {
      const spec = specOf(c, when);
      return spec === undefined || !c.sample ? sample : c.sample(spec, sample);
    },
    directoryAttributes(when) {
      const spec = specOf(c, when);
      return spec === undefined || !c.directoryAttributes ? [] : c.directoryAttributes(spec);
    },
  };
}

/** An ordered set of conditions: the order is the one of messages listing them (and of matching, among tests of equal cost). */
export class ConditionRegistry {
  private readonly conditions: readonly Registered[];
  /** The same, cheapest test first (ties in registry order). */
  private readonly matchOrder: readonly Registered[];
  private readonly claimed: ReadonlySet<string>;
  /** Keys of the conditions written under their own key, in order. */
  readonly keys: readonly string[];

  private constructor(conditions: readonly Registered[]) {
    const keys = conditions.map((c) => c.key);
    if (new Set(keys).size !== keys.length) throw new Error(`rule conditions with the same key: ${keys.join(', ')}`);
    if (conditions.filter((c) => c.claimsOtherKeys).length > 1) throw new Error('only one rule condition may claim the other keys');
    this.conditions = conditions;
    this.matchOrder = [...conditions].sort((a, b) => a.cost - b.cost);
    this.keys = Object.freeze(conditions.filter((c) => !c.claimsOtherKeys).map((c) => c.key));
    this.claimed = new Set(this.keys);
  }

  /** A registry of these conditions, in this order. */
  static of<Specs extends unknown[]>(...conditions: { [K in keyof Specs]: Condition<Specs[K]> }): ConditionRegistry {
    return new ConditionRegistry(conditions.map((c) => register(c)));
  }

  /** YAML value each condition reads from the `when:` mapping. */
  private rawValue(c: Registered, when: Record<string, unknown>): unknown {
    if (!c.claimsOtherKeys) return when[c.key];
    const rest: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(when)) if (!this.claimed.has(k)) rest[k] = when[k];
    return rest;
  }

  /** `Rule.when` from the YAML value of `when:` (best effort for invalid data). */
  read(rawWhen: unknown): RuleConditions {
    const when = mapping(rawWhen);
    const out: Record<string, unknown> = {};
    for (const c of this.conditions) {
      if (!c.claimsOtherKeys && !Object.hasOwn(when, c.key)) continue;
      const spec = c.read(this.rawValue(c, when));
      if (spec !== undefined) out[c.key] = spec;
    }
    return out;
  }

  /** Runs every condition's checks on a rule; `rawWhen` is the YAML value its `when` was read from. */
  check(rule: Rule, rawWhen: unknown, context: RuleCheckContext): void {
    const when = mapping(rawWhen);
    for (const c of this.conditions) c.check(rule.when, this.rawValue(c, when), context, this.keys);
  }

  /** Whether any condition of `when` narrows what matches (false: the rule matches every message). */
  constrains(when: RuleConditions): boolean {
    return this.conditions.some((c) => c.constrains(when));
  }

  /** The tests a message must pass, cheapest first; none for a rule that matches every message. */
  compile(when: RuleConditions): MessageTest[] {
    const tests: MessageTest[] = [];
    for (const c of this.matchOrder) {
      const t = c.compile(when);
      if (t) tests.push(t);
    }
    return tests;
  }

  /** The directory attributes (memberOf included) the conditions of `when` read from the sender's entry. */
  directoryAttributes(when: RuleConditions): string[] {
    const names = new Set<string>();
    for (const c of this.conditions) for (const n of c.directoryAttributes(when)) names.add(n);
    return [...names];
  }

  /** A sample message that satisfies `when`, as far as the conditions can tell, starting from `start`. */
  sample(when: RuleConditions, start: MessageSample): MessageSample {
    let s = start;
    for (const c of this.conditions) s = c.sample(when, s);
    return s;
  }
}

/** sigops' rule conditions. Their order is the one error messages list them in. */
export const CONDITIONS = ConditionRegistry.of(senders, memberOf, recipients, recipientDomains, between, messageType, sentAs, attributes);

export { attributes, between, memberOf, messageType, recipientDomains, recipients, senders, sentAs };
