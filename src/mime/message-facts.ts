// What the policy needs from a message's header block besides the envelope: the From and Sender
// mailboxes (whom the message is signed for) and its type (new, reply, forward). The relay's
// chooser and `sigops sign` both ask here, once per message, before the body streams.
import { messageTypeOf, type MessageType } from '../policy/message-type.ts';
import type { Mailbox } from '../policy/types.ts';
import { codecFor } from './encoding.ts';
import { parseMailbox } from './headers.ts';
import type { MessageHeaders } from './types.ts';

export interface HeaderFacts {
  readonly from?: Mailbox;
  /** The Sender header: set by Exchange when a delegate sends on behalf of the From mailbox. */
  readonly senderHeader?: Mailbox;
  readonly messageType: MessageType;
}

/** Only the start of a subject is read: prefixes are at the start, and a header may be long. */
const SUBJECT_READ = 256;
const ENCODED_WORD = /=\?([^?\s]+)\?([bq])\?([^?\s]*)\?=/gi;
/** Whitespace between two adjacent encoded words is not part of the text (RFC 2047 6.2). */
const BETWEEN_WORDS = /(\?=)\s+(=\?)/g;

/** RFC 2047 encoded words decoded (unknown charsets and broken words are left as written). */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  return value.replace(BETWEEN_WORDS, '$1$2').replace(ENCODED_WORD, (word, charset: string, encoding: string, text: string) => {
    const codec = codecFor(charset.replace(/\*.*$/, '')); // RFC 2231 language suffix
    if (!codec) return word;
    const bytes = encoding.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return codec.decode(bytes);
  });
}

/** The facts of one message's header block. */
export function headerFacts(headers: MessageHeaders): HeaderFacts {
  const from = headers.from();
  const sender = headers.get('sender');
  const senderHeader = sender === undefined ? undefined : parseMailbox(sender);
  const subject = headers.get('subject');
  const messageType = messageTypeOf({
    subject: subject === undefined ? undefined : decodeEncodedWords(subject.slice(0, SUBJECT_READ)),
    inReplyTo: headers.get('in-reply-to'),
    references: headers.get('references'),
  });
  return { from, senderHeader, messageType };
}
