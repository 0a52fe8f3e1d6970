// `messageType:` — new, reply, forward: what the message is, as its header block shows it
// (src/policy/message-type.ts decides, once per message). The common use: a full signature with
// a banner on new mail, a short one on replies and forwards.
import { MESSAGE_TYPES, type MessageType } from '../message-type.ts';
import type { Condition } from './types.ts';
import { textList } from './values.ts';

/** The listed types, each once, in the order written. */
export type MessageTypeSpec = readonly MessageType[];

const KNOWN: ReadonlySet<string> = new Set(MESSAGE_TYPES);

export const messageType: Condition<MessageTypeSpec> = {
  key: 'messageType',
  cost: 1,
  read(v) {
    const list = textList(v)?.filter((t): t is MessageType => KNOWN.has(t));
    return list && list.length > 0 ? [...new Set(list)] : undefined;
  },
  constrains: (spec) => MESSAGE_TYPES.some((t) => !spec.includes(t)),
  compile(spec) {
    if (MESSAGE_TYPES.every((t) => spec.includes(t))) return undefined;
    const [a, b] = spec;
    // one or two types: compared directly, no set
    return b === undefined ? (m) => m.messageType === a : (m) => m.messageType === a || m.messageType === b;
  },
  sample: (spec, s) => ({ ...s, messageType: spec[0] ?? 'new' }),
};
