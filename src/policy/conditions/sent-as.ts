// `sentAs:` — self, shared, onBehalf: how the message relates to the mailbox it is signed for.
// `self`: the sender's own user mailbox, by any of its addresses (aliases, other domains of the
// tenant); `shared`: sent as a shared, room or equipment mailbox (From), signed with that
// mailbox's entry; `onBehalf`: a delegate sending on behalf of the From mailbox (Sender header),
// signed with the delegate's entry. decide() (src/policy/index.ts) tells them apart.
import type { Condition, SentAs } from './types.ts';
import { textList } from './values.ts';

export const SENT_AS: readonly SentAs[] = Object.freeze(['self', 'shared', 'onBehalf']);

/** The listed ways, each once, in the order written. */
export type SentAsSpec = readonly SentAs[];

const KNOWN: ReadonlySet<string> = new Set(SENT_AS);

export const sentAs: Condition<SentAsSpec> = {
  key: 'sentAs',
  cost: 1,
  read(v) {
    const list = textList(v)?.filter((t): t is SentAs => KNOWN.has(t));
    return list && list.length > 0 ? [...new Set(list)] : undefined;
  },
  constrains: (spec) => SENT_AS.some((t) => !spec.includes(t)),
  compile(spec) {
    if (SENT_AS.every((t) => spec.includes(t))) return undefined;
    const [a, b] = spec;
    return b === undefined ? (m) => m.sentAs === a : (m) => m.sentAs === a || m.sentAs === b;
  },
  sample: (spec, s) => ({ ...s, sentAs: spec[0] ?? 'self' }),
};
