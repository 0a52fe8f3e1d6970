// The words mail clients write where the quoted thread of a reply or forward begins: the
// attribution line ("On … wrote:"), the header block of the quoted message ("From:" / "Sent:"),
// separator lines ("-----Original Message-----") and forward intros ("Begin forwarded
// message:"). Each word is written here once, per language, as data; placement.ts turns the
// lists into regex alternatives for plain text and for HTML (where a letter may also come as a
// character reference, `&eacute;` or `&#233;`). To teach placement a language or a client,
// add its words here.

/** The words of one language (or one client's wording in it). Every list is optional. */
export interface QuoteWords {
  /** Opening words of an attribution line: "On" in "On 3 May 2026, Bob <bob@…> wrote:". */
  readonly attributionLeads?: readonly string[];
  /** The verb that ends it, before the colon: "wrote". */
  readonly attributionVerbs?: readonly string[];
  /** How the second line of an attribution wrapped inside its verb begins (Gmail breaks "a écrit" after "a"). */
  readonly attributionVerbTails?: readonly string[];
  /** The "From:" field of the quoted message's header block. */
  readonly from?: readonly string[];
  /** Its "Sent:" / "Date:" field. */
  readonly sent?: readonly string[];
  /** Between dashes on a separator line: "-----Original Message-----". */
  readonly separators?: readonly string[];
  /** A line of its own before a forwarded message, ending in a colon. */
  readonly forwardIntros?: readonly string[];
}

export type QuoteWordKind = keyof QuoteWords;

/**
 * One entry per language. A word may appear under several languages (French and English both
 * write "Date:"); the lists are merged without duplicates. A space inside a word matches any
 * run of white space (and `&nbsp;` in HTML).
 */
export const QUOTE_WORDS: Readonly<Record<string, QuoteWords>> = {
  // English: Outlook, Gmail, Apple Mail, Thunderbird, Yahoo
  en: {
    attributionLeads: ['On'],
    attributionVerbs: ['wrote'],
    from: ['From'],
    sent: ['Sent', 'Date'],
    separators: ['Original Message', 'Forwarded message'],
    forwardIntros: ['Begin forwarded message'],
  },
  // German: Outlook ("Gesendet:"), Gmail/Thunderbird ("Am … schrieb"), Apple Mail forwards;
  // "Ursprungliche" is what survives a lost umlaut
  de: {
    attributionLeads: ['Am'],
    attributionVerbs: ['schrieb'],
    from: ['Von'],
    sent: ['Gesendet', 'Datum'],
    separators: ['Ursprüngliche Nachricht', 'Ursprungliche Nachricht', 'Original-Nachricht'],
    forwardIntros: ['Anfang der weitergeleiteten Nachricht'],
  },
  // French: Outlook ("Envoyé :"), Gmail ("Le … a écrit :", wrapped after "a"), Apple Mail forwards
  fr: {
    attributionLeads: ['Le'],
    attributionVerbs: ['a écrit'],
    attributionVerbTails: ['écrit'],
    from: ['De'],
    sent: ['Envoyé', 'Date'],
    separators: ["Message d'origine", 'Message transféré'],
    forwardIntros: ['Début du message réexpédié'],
  },
  // Spanish: Outlook, Gmail
  es: {
    attributionLeads: ['El'],
    attributionVerbs: ['escribió'],
    from: ['De'],
    sent: ['Enviado', 'Fecha'],
    separators: ['Mensaje original'],
  },
  // Portuguese: Outlook
  pt: {
    from: ['De'],
    sent: ['Enviado', 'Data'],
  },
  // Italian: Outlook, Gmail
  it: {
    attributionLeads: ['Il'],
    attributionVerbs: ['ha scritto'],
    from: ['Da'],
    sent: ['Inviato', 'Data'],
    separators: ['Messaggio originale'],
  },
  // Dutch: Outlook, Gmail
  nl: {
    attributionLeads: ['Op'],
    attributionVerbs: ['schreef'],
    from: ['Van'],
    sent: ['Verzonden', 'Datum'],
  },
  // Swedish: Outlook, Gmail ("Den … skrev")
  sv: {
    attributionLeads: ['Den'],
    attributionVerbs: ['skrev'],
    from: ['Från'],
    sent: ['Skickat', 'Datum'],
  },
  // Danish and Norwegian: Outlook, Gmail ("Den … skrev")
  'da/no': {
    attributionLeads: ['Den'],
    attributionVerbs: ['skrev'],
    from: ['Fra'],
    sent: ['Sendt'],
  },
  // Polish: Outlook, Gmail ("W dniu … napisał")
  pl: {
    attributionLeads: ['W dniu'],
    attributionVerbs: ['napisał'],
    from: ['Od'],
    sent: ['Wysłano', 'Data'],
  },
  // Russian: Outlook
  ru: {
    from: ['От'],
    sent: ['Отправлено'],
  },
  // Ukrainian: Outlook
  uk: {
    from: ['Від'],
  },
  // Turkish: Outlook
  tr: {
    from: ['Kimden'],
    sent: ['Gönderildi'],
  },
  // Hungarian: Outlook
  hu: {
    from: ['Feladó'],
  },
  // Finnish: Outlook
  fi: {
    from: ['Lähettäjä'],
    sent: ['Lähetetty'],
  },
  // Japanese: Outlook
  ja: {
    from: ['差出人'],
    sent: ['送信日時'],
  },
  // Chinese (simplified): Outlook
  'zh-Hans': {
    from: ['发件人'],
    sent: ['发送时间', '日期'],
  },
  // Chinese (traditional): Outlook
  'zh-Hant': {
    from: ['寄件者'],
    sent: ['寄件日期'],
  },
  // Korean: Outlook
  ko: {
    from: ['보낸 사람'],
  },
};

/** Every word of one kind, all languages merged, without duplicates (longest first). */
export function quoteWords(kind: QuoteWordKind): string[] {
  const words = new Set<string>();
  for (const language of Object.values(QUOTE_WORDS)) for (const w of language[kind] ?? []) words.add(w);
  // longest first: an alternation tries its branches in order
  return [...words].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}

/** Escapes what is special outside a character class (and nothing else, so the result also works with the `u` flag). */
const escapeRe = (s: string): string => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');

/**
 * A regex alternative group `(?:…|…)` matching any of `words` in plain text. For regexes with
 * the `i` flag (every quote regex is case-insensitive).
 */
export function textAlternatives(words: readonly string[]): string {
  return `(?:${words.map(textWord).join('|')})`;
}

function textWord(word: string): string {
  let out = '';
  for (const ch of word) {
    if (/\s/.test(ch)) {
      if (!out.endsWith('\\s+')) out += '\\s+';
    } else out += escapeRe(ch);
  }
  return out;
}

/**
 * The same group for HTML source: a non-ASCII letter may also be written as a named entity
 * (Latin-1 letters: `&eacute;`) or a numeric character reference (`&#233;`, `&#xE9;`), a space
 * as `&nbsp;`, an apostrophe as `&#39;`. For regexes with the `i` flag.
 */
export function htmlAlternatives(words: readonly string[]): string {
  return `(?:${words.map(htmlWord).join('|')})`;
}

const HTML_SPACE = String.raw`(?:\s|&nbsp;|&#0*160;|&#x0*a0;)+`;
const HTML_APOSTROPHE = String.raw`(?:'|&apos;|&#0*39;|&#x0*27;)`;

function htmlWord(word: string): string {
  let out = '';
  for (const ch of word) {
    if (/\s/.test(ch)) {
      if (!out.endsWith(HTML_SPACE)) out += HTML_SPACE;
    } else if (ch === "'") out += HTML_APOSTROPHE;
    else if (ch.codePointAt(0)! < 0x80) out += escapeRe(ch);
    else out += htmlLetter(ch);
  }
  return out;
}

/**
 * HTML 4 names of the Latin-1 letters U+00DF…U+00FF (lower case; U+00F7 ÷ is not a letter).
 * The upper-case letters have the same names capitalised, which a case-insensitive regex
 * matches already.
 */
const LATIN1_NAMES = [
  'szlig',
  'agrave', 'aacute', 'acirc', 'atilde', 'auml', 'aring', 'aelig', 'ccedil',
  'egrave', 'eacute', 'ecirc', 'euml', 'igrave', 'iacute', 'icirc', 'iuml',
  'eth', 'ntilde', 'ograve', 'oacute', 'ocirc', 'otilde', 'ouml', '',
  'oslash', 'ugrave', 'uacute', 'ucirc', 'uuml', 'yacute', 'thorn', 'yuml',
];

/** The entity name of a Latin-1 letter, or undefined. */
export function latin1EntityName(ch: string): string | undefined {
  const code = ch.toLowerCase().codePointAt(0)!;
  const name = code >= 0xdf && code <= 0xff ? LATIN1_NAMES[code - 0xdf] : undefined;
  return name || undefined;
}

/** One letter, or any reference to it (or, as the regex ignores case, to its other case). */
function htmlLetter(ch: string): string {
  const cases = [...new Set([ch, ch.toLowerCase(), ch.toUpperCase()])].filter((c) => [...c].length === 1);
  const codes = cases.map((c) => c.codePointAt(0)!);
  const name = latin1EntityName(ch);
  const group = (xs: string[]): string => (xs.length === 1 ? xs[0]! : `(?:${xs.join('|')})`);
  return `(?:${escapeRe(ch)}${name ? `|&${name};` : ''}|&#0*${group(codes.map(String))};|&#x0*${group(codes.map((c) => c.toString(16)))};)`;
}
