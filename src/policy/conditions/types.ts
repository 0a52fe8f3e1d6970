// What a rule condition is: one module per condition (senders, memberOf, recipients, …) says how
// it is read from `when:` in a tenant file, checked against the rest of the repository, compiled
// into a test on a message and sampled for the Action's preview. The config loader, decide()
// and the preview only iterate over the registry of these modules (index.ts).
import type { DirectoryUser, Rule, Tenant } from '../../model/index.ts';
import type { MessageType } from '../message-type.ts';
import type { Mailbox } from '../types.ts';

/**
 * How the message relates to the mailbox it is signed for: `self`, the signer's own user
 * mailbox (any of its addresses); `shared`, sent as a shared (or room, equipment) mailbox, whose
 * entry signs; `onBehalf`, a delegate sending on behalf of the From mailbox (Sender header),
 * signed for the delegate.
 */
export type SentAs = 'self' | 'shared' | 'onBehalf';

/** 1-based line and column in the tenant file. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/**
 * What decide() knows about one message, worked out once per message and shared by every
 * condition of every rule (decide() is on the relay's hot path).
 */
export interface MessageFacts {
  /** Envelope sender, lower-case. */
  readonly sender: string;
  /**
   * The directory entry the message is signed for, if any: the Sender header's (sent on
   * behalf), else the From address's, else the envelope sender's (docs/config.md, "Whom a
   * message is signed for").
   */
  readonly user: DirectoryUser | undefined;
  /** How it was sent: as the signer's own mailbox, as a shared mailbox, on behalf of another. */
  readonly sentAs: SentAs;
  /** New, a reply or a forward, from the header block. */
  readonly messageType: MessageType;
  /** The From header as the request gave it. */
  readonly from: Mailbox | undefined;
  /** Lower-case domain of each envelope recipient, in order. */
  readonly recipientDomains: readonly string[];
  /** There are recipients and all of them are in the tenant's domains. */
  readonly allInternal: boolean;
  /** At least one recipient is outside the tenant's domains. */
  readonly anyExternal: boolean;
  /** The message's time, ms since the epoch. */
  readonly now: number;
}

/** A compiled condition: does this message satisfy it? */
export type MessageTest = (message: MessageFacts) => boolean;

export type MatchCost = 1 | 2 | 3 | 4;

/** What the directory of the rule's tenant offers, for the checks (undefined when it was not loaded). */
export interface DirectoryFacts {
  readonly users: number;
  /** Every group (lower-case) some user is a member of. */
  readonly groups: ReadonlySet<string>;
}

/** What the loader tells a check about the rule it is in. */
export interface RuleCheckContext {
  readonly tenant: Tenant;
  readonly rule: Rule;
  readonly directory: DirectoryFacts | undefined;
  /** Attribute names a rule may test: the documented ones and those the tenant's directory has. */
  readonly attributes: ReadonlySet<string>;
  /** Position of the node at `path` under this rule's `when:` (of the key `keyOf` inside it, when given). */
  at(path: readonly (string | number)[], keyOf?: string): Position;
  error(at: Position, code: string, message: string): void;
  /** Dropped for a tenant file that fails its schema: warnings there would be guesses. */
  warn(at: Position, code: string, message: string): void;
}

/** What a condition's check sees. */
export interface ConditionCheckContext extends RuleCheckContext {
  /** The YAML value the spec was read from. */
  readonly raw: unknown;
  /** Keys of the conditions written under their own key, in registry order (for messages). */
  readonly conditionKeys: readonly string[];
  /** The spec of another condition of the same rule, if the rule has it. */
  sibling<S>(condition: Condition<S>): S | undefined;
}

/** The message the Action's preview makes up to show a rule; each condition nudges it so the rule can apply. */
export interface MessageSample {
  /** The recipient is in the tenant's domains (else outside them). */
  readonly internalRecipient: boolean;
  /** The recipient's domain, when a condition wants a particular one. */
  readonly recipientDomain?: string;
  readonly date: Date;
  /** Senders (lower-case) to try first. */
  readonly preferredSenders: readonly string[];
  /** The message type to show (absent: new). */
  readonly messageType?: MessageType;
  /** How the sample is sent (absent: as the user's own mailbox). */
  readonly sentAs?: SentAs;
}

/**
 * One kind of rule condition. `Spec` is what it keeps in `Rule.when[key]`: plain, immutable
 * data (the loader freezes it), also written by hand in tests.
 */
export interface Condition<Spec> {
  /** Its key in `Rule.when`, and under `when:` in YAML unless it claims the other keys. */
  readonly key: string;
  /**
   * 'own-key' (default): reads the value of `when.<key>`. 'other-keys': reads every key under
   * `when:` that no other condition claims, as a mapping (directory attributes); one condition
   * at most may do so.
   */
  readonly claims?: 'own-key' | 'other-keys';
  /**
   * The spec from YAML: exact for schema-valid data, a best effort for anything else (wrong
   * types dropped) so that the checks can still run. Undefined: the rule has no such condition.
   */
  read(value: unknown): Spec | undefined;
  /** Checks against the tenant, its directory and the rule's other conditions, with positions. */
  check?(spec: Spec, context: ConditionCheckContext): void;
  /** False when the spec matches every message (for the "rule after a catch-all" warning). Default: true. */
  constrains?(spec: Spec): boolean;
  /** The test on a message; undefined when the spec matches every message. */
  compile(spec: Spec): MessageTest | undefined;
  /**
   * About how much its test costs per message, from 1 (a field or two compared) through 2 (a
   * set lookup) and 3 (a loop over the sender's groups or attributes) to 4 (a loop over the
   * recipients). decide() runs a rule's cheaper tests first, so that a rule which does not
   * apply is dropped early: it tries every rule in order for every message. Default: 3.
   */
  readonly cost?: MatchCost;
  /**
   * The directory attributes its test reads from the sender's entry (`memberOf` for groups):
   * `sigops directory sync` reads from Graph only what rules and templates use. Default: none.
   */
  directoryAttributes?(spec: Spec): readonly string[];
  /** Adjusts the preview's sample message so that the condition holds. */
  sample?(spec: Spec, sample: MessageSample): MessageSample;
}
