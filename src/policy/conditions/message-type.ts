// `messageType:` — new, reply, forward: what the message is, as its header block shows it
// (src/policy/message-type.ts decides, once per message). The common use: a full signature with
// a banner on new mail, a short one on replies and forwards.
import { MESSAGE_TYPES, type MessageType } from '../message-type.ts';
import { oneOfCondition } from './one-of.ts';

/** The listed types, each once, in the order written. */
export type MessageTypeSpec = readonly MessageType[];

export const messageType = oneOfCondition('messageType', MESSAGE_TYPES, (m) => m.messageType, (s, messageType) => ({ ...s, messageType }));
