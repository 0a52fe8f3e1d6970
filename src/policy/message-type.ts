// What kind of message this is — new, a reply or a forward — from what its header block shows,
// for the `messageType` rule condition. Decided once per message from facts the relay has when
// it chooses (the header block, before the body streams), so it must stay cheap: one regular
// expression on the start of the subject and two header lookups. docs/config.md ("Message
// type") documents the precedence; the body's quote header is deliberately not used (see there).

export type MessageType = 'new' | 'reply' | 'forward';
export const MESSAGE_TYPES: readonly MessageType[] = Object.freeze(['new', 'reply', 'forward']);

/**
 * Forward prefixes clients write, lower-case, without the colon. Outlook localises them; the
 * others (Gmail, Apple Mail, Thunderbird) write Fwd/Fw. `vs` is Danish and Norwegian
 * "Videresendt" (Outlook); Finnish uses it for a reply, but either way the message is not new.
 */
const FORWARD = [
  'fw', 'fwd', 'fwrd',
  'wg', // German, Weitergeleitet
  'tr', // French, Transfert
  'rv', // Spanish, Reenviado
  'i', // Italian, Inoltrato
  'enc', // Portuguese (Brazil), Encaminhado
  'doorst', // Dutch, Doorsturen
  'vb', // Swedish, Vidarebefordrat
  'vs', // Danish, Norwegian: Videresendt
  'vl', // Finnish, Välitetty
  'fs', // Icelandic, Framsent
  'pd', // Polish, Przekazanie dalej
  'př', // Czech, Přeposláno
  'tov', // Hungarian, Továbbítás
  'ilt', // Turkish, İlet (İLT lower-cases to i + a combining dot, dropped below)
  'trs', // Indonesian, Terusan
  'prsd', // Latvian, Pārsūtīts
  'πρθ', // Greek
  'пересл', 'переслано', // Russian, Ukrainian
  'הועבר', // Hebrew
  'إعادة توجيه', 'اعادة توجيه', // Arabic
  '转发', '轉寄', '轉發', '轉送', // Chinese (simplified, traditional)
  '転送', // Japanese
  '전달', // Korean
];

/** Reply prefixes, lower-case, without the colon. */
const REPLY = [
  're', 'ref', 'réf', 'ref.', 'réf.', // Latin "in re" (RFC 5322 3.6.5); French Référence
  'aw', // German, Antwort
  'sv', // Swedish, Danish, Norwegian, Icelandic: Svar
  'antw', // Dutch, Antwoord
  'r', 'rif', // Italian, Risposta / Riferimento
  'res', // Portuguese (Brazil), Resposta
  'odp', // Polish, Czech: Odpowiedź, Odpověď
  'odg', // Croatian, Slovenian: Odgovor
  'ynt', // Turkish, Yanıt
  'bls', // Indonesian, Balas
  'atb', // Latvian, Atbilde; Welsh, Ateb
  'ats', // Lithuanian, Atsakymas
  'απ', 'σχετ', // Greek
  'отв', 'ответ', 'відп', // Russian, Ukrainian
  'השב', // Hebrew
  'رد', // Arabic
  '回复', '答复', '回覆', '答覆', // Chinese (simplified, traditional)
  '返信', // Japanese
  '회신', '답장', // Korean
];

const KIND = new Map<string, 'reply' | 'forward'>([
  ...REPLY.map((p) => [p, 'reply'] as const),
  ...FORWARD.map((p) => [p, 'forward'] as const),
]);

/**
 * The first prefix of a subject: optional mailing-list tags without a colon (`[team] `), an
 * optional `[` (Thunderbird's old `[Fwd: …]`), a word of up to 12 characters (two for Arabic),
 * an optional counter (`Re[2]:`, `Re^2:`, `RE (2):`), then a colon, ASCII or full-width
 * (Chinese and Japanese clients write `：`).
 */
const PREFIX = /^\s*(?:\[[^\]:]{0,40}\]\s*)*\[?([^\s:：[\]()^]{1,12}(?: [^\s:：[\]()^]{1,8})?)\s*(?:\[\d{1,3}\]|\^\d{1,3}|\(\d{1,3}\))?\s*[:：]/u;

/** What the first subject prefix says, if it is one clients write. */
export function subjectPrefix(subject: string | undefined): 'reply' | 'forward' | undefined {
  if (subject === undefined) return undefined;
  const m = PREFIX.exec(subject);
  return m ? KIND.get(m[1]!.toLowerCase().replace(/\u0307/g, '')) : undefined;
}

/** The header facts the message type is decided from. `subject`: RFC 2047 words already decoded. */
export interface MessageTypeEvidence {
  readonly subject?: string;
  readonly inReplyTo?: string;
  readonly references?: string;
}

/**
 * 1. the subject's first prefix: a forward prefix → forward, a reply prefix → reply (the
 *    outermost prefix is what this message is: `Re: Fwd:` answers a forward);
 * 2. else In-Reply-To or References (non-empty) → reply: a reply whose subject was edited or
 *    whose client writes a prefix sigops does not know; clients also set them on forwards, which
 *    is why a forward prefix wins over them;
 * 3. else new.
 */
export function messageTypeOf(evidence: MessageTypeEvidence): MessageType {
  const prefix = subjectPrefix(evidence.subject);
  if (prefix) return prefix;
  if (evidence.inReplyTo?.trim() || evidence.references?.trim()) return 'reply';
  return 'new';
}
