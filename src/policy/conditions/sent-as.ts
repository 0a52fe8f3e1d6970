// `sentAs:` — self, shared, onBehalf: how the message relates to the mailbox it is signed for.
// `self`: the sender's own user mailbox, by any of its addresses (aliases, other domains of the
// tenant); `shared`: sent as a shared, room or equipment mailbox (From), signed with that
// mailbox's entry; `onBehalf`: a delegate sending on behalf of the From mailbox (Sender header),
// signed with the delegate's entry. decide() (src/policy/index.ts) tells them apart.
import { oneOfCondition } from './one-of.ts';
import type { SentAs } from './types.ts';

export const SENT_AS: readonly SentAs[] = Object.freeze(['self', 'shared', 'onBehalf']);

/** The listed ways, each once, in the order written. */
export type SentAsSpec = readonly SentAs[];

export const sentAs = oneOfCondition('sentAs', SENT_AS, (m) => m.sentAs, (s, sentAs) => ({ ...s, sentAs }));
