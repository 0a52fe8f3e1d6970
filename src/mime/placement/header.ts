// The quote-header recogniser: given the visible lines of a reply (a plain-text part, or an HTML
// part projected to text by html-lines.ts), finds the first line of the quoted thread. One model
// for both kinds of part, so each language and client form is written once:
//   * separator lines ("-----Original Message-----", "---- On … wrote ----", an `<hr>` or a bare
//     dash/underscore line above a header block) and forward intros ("Begin forwarded message:");
//   * header blocks: two or more field lines (From/Sent/Date/To/Cc/Subject in any order and any
//     language of words.ts), with the separator line above them when there is one;
//   * attributions: a line, or up to three wrapped lines, ending with the verb of a language
//     ("wrote", "schrieb Bob <…>:", "写道：") and carrying a date, a time or an address, or
//     starting with a date and ending with an address and a colon;
//   * `>`-quoted lines (a `<blockquote>` in HTML), with the line directly above them, which a
//     client wrote as their attribution even when its words are unknown here.
// The quote starts at the first line of the whole header, never in its middle.
import { quoteWords, textWord, type QuoteWordKind } from './words.ts';

/** The visible lines of a part, read as far as the search needs them. */
export interface QuoteLines {
  has(i: number): boolean;
  /** The visible text of line i. */
  text(i: number): string;
  /** A quoted line: `>` in plain text, inside a quote `<blockquote>` in HTML. */
  quoted(i: number): boolean;
  /** A horizontal rule (`<hr>`), HTML only. */
  rule(i: number): boolean;
}

export interface QuoteStart {
  readonly line: number;
  readonly marker: string;
}

type FieldKind = 'from' | 'sent' | 'to' | 'cc' | 'subject';

const norm = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim();

/** Header field names, normalised, to their kind: a Map look-up per line instead of a regex. */
const FIELDS = new Map<string, FieldKind>();
for (const kind of ['to', 'cc', 'subject', 'sent', 'from'] as const) for (const w of quoteWords(kind)) FIELDS.set(norm(w), kind);
const SEPARATORS = new Set(quoteWords('separators').map(norm));
/** "----- Forwarded by Bob/Org on 03.11.2025 09:58 -----": a known phrase and more after it. */
const SEPARATOR_PREFIXES = [...SEPARATORS].filter((w) => w.includes(' ')).map((w) => `${w} `);
const FORWARD_INTROS = new Set(quoteWords('forwardIntros').map(norm));

/** Scripts written without spaces between words: their verbs need no word boundary. */
const UNSPACED = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;
const LETTER = /[\p{L}\p{M}]/u;

interface Word {
  /** Lower case, one space between words. */
  readonly text: string;
  /** Needs a non-letter on both sides (not so in Chinese, Japanese, Korean, Thai). */
  readonly bounded: boolean;
}
const wordList = (kind: QuoteWordKind): Word[] => quoteWords(kind).map((w) => ({ text: norm(w), bounded: !UNSPACED.test(w) }));
/**
 * Every attribution verb and lead. Found with indexOf on the lower-cased line, not with one
 * regex of alternatives: with the `u` flag and word boundaries such a regex costs milliseconds
 * per line.
 */
const VERBS = wordList('attributionVerbs');
const LEADS = wordList('attributionLeads');
/** Whether any verb occurs at all: one regex of plain alternatives (no flags) is fast. */
const ANY_VERB = new RegExp(VERBS.map((v) => v.text.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&')).join('|'));
/** The "(a)" some languages add for either gender: "napisał(a)", "написав(ла)". */
const GENDER = /^\s*\([\p{L}/]{1,4}\)/u;

/** The last verb in `w` (normalised: lower case, single spaces), as [start, end), or undefined. */
function lastVerb(w: string): [number, number] | undefined {
  if (!ANY_VERB.test(w)) return undefined;
  let best: [number, number] | undefined;
  for (const v of VERBS) {
    for (let at = w.lastIndexOf(v.text); at >= 0; at = at > 0 ? w.lastIndexOf(v.text, at - 1) : -1) {
      const end = at + v.text.length;
      if (v.bounded && ((at > 0 && LETTER.test(w[at - 1]!)) || (end < w.length && LETTER.test(w[end]!)))) continue;
      if (!best || at > best[0] || (at === best[0] && end > best[1])) best = [at, end];
      break;
    }
  }
  if (!best) return undefined;
  const g = GENDER.exec(w.slice(best[1]));
  return g ? [best[0], best[1] + g[0].length] : best;
}

function startsWithLead(w: string): boolean {
  const t = w.replace(/^[*_]+/, '');
  return LEADS.some((l) => t.startsWith(l.text) && (!l.bounded || t.length === l.text.length || !LETTER.test(t[l.text.length]!)));
}

/** The last word of every verb, to test a line cheaply before any regex runs. */
const VERB_LAST = new Set(VERBS.map((v) => v.text.split(' ').pop()!.replace(/\(.*\)$/, '')));
const UNSPACED_VERBS = VERBS.filter((v) => !v.bounded).map((v) => v.text);
/** Verbs after which only a name (or an address) may follow before the colon. */
const TAIL_NAME_ONLY = new Set(quoteWords('attributionVerbs', ['en']).map(norm));

const DATE = /(?:^|\D)(?:19|20)\d{2}(?!\d)|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,4}\s*[年月日년월일]|(?:^|\D)\d{1,2}\.?\s+\p{L}{3,}\.?,?\s+\d{2,4}/u;
const TIME = /(?:^|\D)\d{1,2}[:.h]\d{2}(?!\d)|\d{1,2}\s*(?:[ap]\.?m\.?|uhr)(?![\p{L}])/iu;
const ADDRESS = /@|<[^<>\s]{3,}>|\[mailto:/i;
const DATE_FIRST = /^\s*(?:[\p{L}]{1,12}\.?,?\s+)?(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{4}\s*[年년]|\d{1,2}\.?\s+\p{L}{3,}\.?,?\s+\d{4})/u;
/** Direction marks Hebrew and Arabic clients wrap names and addresses in. */
const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const HAS_BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** Whether a trimmed line ends with a colon (a regex ending in `\s*$` would try every colon of it). */
const endsColon = (t: string): boolean => {
  const c = t.charCodeAt(t.length - 1);
  return c === 58 || c === 0xff1a;
};
const SENTENCE_END = /[.!?…。！？]\s*$/;

/** "---- text ----", "==== text ====": what stands between the rules. */
const RULED = /^[-_=~*•]{2,}\s*(.*?)\s*[-_=~*•]{2,}$/u;
const BARE_RULE = /^(?:[-_=~*]\s?){4,}$/;
const LONG_UNDERSCORES = /^_{20,}$/;

function fieldKind(line: string): FieldKind | undefined {
  const colon = (line.length > 41 ? line.slice(0, 41) : line).search(/[:：]/);
  if (colon < 1 || colon > 40) return undefined;
  return FIELDS.get(norm(line.slice(0, colon).replace(/[*_]/g, '')));
}

/** Whether the line could end an attribution: it ends with a colon, or with a verb. */
function mayEndAttribution(t: string): boolean {
  if (endsColon(t)) return true;
  let last = t.slice(t.lastIndexOf(' ') + 1);
  if (last.endsWith(')')) last = last.replace(/\([\p{L}/]{1,4}\)$/u, '');
  last = last.toLowerCase();
  if (VERB_LAST.has(last)) return true;
  return UNSPACED_VERBS.length > 0 && UNSPACED.test(t.slice(-1)) && UNSPACED_VERBS.some((v) => t.endsWith(v));
}

/**
 * The attribution's verb ends it ("… wrote:", "… написал(а):") or comes before the name and
 * address of the writer ("… schrieb Bob <bob@…>:", "… skrev Bob:"), not before a sentence.
 */
function verbEnds(w: string): boolean {
  // a window of lines is judged several times while its start is looked for
  let known = VERB_ENDS_SEEN.get(w);
  if (known === undefined) {
    if (VERB_ENDS_SEEN.size >= 256) VERB_ENDS_SEEN.clear();
    VERB_ENDS_SEEN.set(w, (known = judgeVerbEnds(w)));
  }
  return known;
}
const VERB_ENDS_SEEN = new Map<string, boolean>();

function judgeVerbEnds(w: string): boolean {
  const n = norm(w);
  const verb = lastVerb(n);
  if (!verb) return false;
  const tail = n.slice(verb[1]).trim();
  if (tail === '' || /^[:：]$/.test(tail)) return true;
  if (!endsColon(tail)) return false;
  const body = tail.replace(/[:：]\s*$/, '');
  // English names the writer before "wrote" ("Bob <bob@…> wrote on 11/03/2025 09:58 AM:", as
  // Lotus Notes writes); "As Bob wrote on 3 May:" and "I wrote to bob@…:" are sentences
  if (TAIL_NAME_ONLY.has(n.slice(verb[0], verb[1]))) {
    return ADDRESS.test(n.slice(0, verb[0])) || (body.split(' ').length <= 6 && !/\d/.test(body) && !ADDRESS.test(body));
  }
  return ADDRESS.test(body) || DATE.test(body) || TIME.test(body) || body.split(' ').length <= 6;
}

function hasVerb(w: string): boolean {
  return lastVerb(norm(w)) !== undefined;
}

/** An attribution that needs nothing after it to be believed. */
function strongAttribution(w: string): boolean {
  if (w.length > 600) return false;
  if (verbEnds(w)) return (startsWithLead(norm(w)) && /\d/.test(w)) || DATE.test(w) || TIME.test(w) || ADDRESS.test(w);
  if (!endsColon(w) || !DATE_FIRST.test(w) || fieldKind(w)) return false;
  return ADDRESS.test(w);
}

/** An attribution believed only right above a quote: a colon and a date, time or address. */
function weakAttribution(w: string): boolean {
  if (w.length > 600) return false;
  return verbEnds(w) || (endsColon(w) && (DATE.test(w) || TIME.test(w) || ADDRESS.test(w)));
}

/** A line that begins an attribution rather than continuing one. */
function beginsAttribution(t: string): boolean {
  return startsWithLead(norm(t)) || DATE_FIRST.test(t);
}

/** A wrapped line that continues the one above ("<bob@…> wrote:", "um 12:52 Uhr:", "wrote:"). */
function continues(t: string, above: string): boolean {
  return /^[<([«@]|^\p{Ll}|^\d/u.test(t) || /[<([]$/u.test(above) || VERB_LAST.has(norm(t).replace(/[:：]$/, ''));
}

export class QuoteHeaderSearch {
  private readonly cache: string[] = [];
  constructor(private readonly lines: QuoteLines) {}

  private blank(i: number): boolean {
    return !this.lines.rule(i) && this.lines.text(i).trim() === '';
  }

  /** Line i without direction marks and surrounding white space (each line read once). */
  private line(i: number): string {
    let t = this.cache[i];
    if (t === undefined) {
      t = this.lines.text(i);
      if (HAS_BIDI.test(t)) t = t.replace(BIDI, '');
      t = t.trim();
      this.cache[i] = t;
    }
    return t;
  }

  private joined(from: number, to: number): string {
    let s = '';
    for (let k = from; k <= to; k++) s += (k > from ? ' ' : '') + this.line(k);
    return s;
  }

  /** First line of the paragraph (up to three lines) that ends at line `end`. */
  private paragraphStart(end: number): number {
    let p = end;
    while (p > 0 && end - (p - 1) <= 2 && !this.blank(p - 1) && !this.lines.quoted(p - 1) && !this.lines.rule(p - 1)) p--;
    return p;
  }

  /**
   * Where the attribution that ends at line `end` begins, or undefined when it is none. With
   * `aboveQuote`, a weak attribution counts, and so does a lone unrecognised line.
   */
  private attributionStart(end: number, aboveQuote: boolean): number | undefined {
    const p = this.paragraphStart(end);
    // cheap gate for the lines of a newest text that merely end in a colon: a strong
    // attribution has its verb on its last line (wrapping keeps it whole) or an address
    if (!aboveQuote && !hasVerb(this.line(end)) && !ADDRESS.test(this.joined(p, end))) return undefined;
    const ok = (s: number): boolean => {
      const w = this.joined(s, end);
      return strongAttribution(w) || (aboveQuote && weakAttribution(w));
    };
    // a line that begins an attribution ("On …", "Am …", a date) with the whole of it matching
    for (let s = p; s <= end; s++) if (beginsAttribution(this.line(s)) && ok(s)) return s;
    let best: number | undefined;
    for (let s = end; s >= p && best === undefined; s--) if (strongAttribution(this.joined(s, end))) best = s;
    if (best === undefined && aboveQuote) for (let s = end; s >= p && best === undefined; s--) if (weakAttribution(this.joined(s, end))) best = s;
    if (best === undefined) return aboveQuote ? end : undefined;
    while (best > p && continues(this.line(best), this.line(best - 1))) best--;
    return best;
  }

  /** Two or more header fields from line i on (blank and wrapped lines between allowed). */
  private headerBlock(i: number): boolean {
    const first = fieldKind(this.line(i));
    if (!first) return false;
    const kinds = new Set<FieldKind>([first]);
    let last = i;
    for (let j = i + 1; j <= i + 12 && this.lines.has(j) && j - last <= 2; j++) {
      if (this.lines.quoted(j) || this.lines.rule(j)) break;
      const k = fieldKind(this.line(j));
      if (k) {
        kinds.add(k);
        last = j;
      }
    }
    const from = kinds.has('from');
    const sent = kinds.has('sent');
    if (!((from && (sent || kinds.has('subject'))) || (sent && kinds.has('subject')))) return false;
    // a quoted header stands apart (after a blank line, a rule, a separator); two field-like
    // lines right under a sentence ("Please book:" / "Date: …" / "Subject: …") are not one
    const above = i > 0 ? this.line(i - 1) : '';
    if (above === '' || this.lines.rule(i - 1) || RULED.test(above) || BARE_RULE.test(above) || LONG_UNDERSCORES.test(above)) return true;
    // directly under a sentence only a mail's own header: its sender's address or a Subject
    // (an itinerary's From:/To:/Date: has neither)
    return from && kinds.size >= 3 && (kinds.has('subject') || ADDRESS.test(this.joined(i, last)));
  }

  /** A separator (rule, dashes, underscores, a known phrase) just above line i, or i. */
  private separatorAbove(i: number): number {
    let k = i - 1;
    while (k >= 0 && i - k <= 3 && this.blank(k)) k--;
    if (k < 0 || i - k > 3) return i;
    if (this.lines.rule(k)) return k;
    const t = this.line(k);
    if (BARE_RULE.test(t) || RULED.test(t) || FORWARD_INTROS.has(norm(t).replace(/\s*[:：]$/, ''))) return k;
    return i;
  }

  /** The separator kind of a line: a known phrase between rules, or an attribution in them. */
  private separator(t: string): string | undefined {
    if (LONG_UNDERSCORES.test(t)) return 'underscore-separator';
    const m = RULED.exec(t);
    if (!m) return undefined;
    const inner = norm(m[1]!).replace(/\s*[:：]$/, '');
    if (SEPARATORS.has(inner) || SEPARATOR_PREFIXES.some((p) => inner.startsWith(p))) return 'original-message';
    // "---- On … wrote ----", "---- Am … schrieb Bob <…> ----": a verb, and a date or an address
    if (inner !== '' && (verbEnds(m[1]!) || (hasVerb(m[1]!) && (DATE.test(inner) || TIME.test(inner) || ADDRESS.test(inner))))) return 'attribution-ruled';
    return undefined;
  }

  /** Where the quote that starts with `>` line q begins: its attribution above, if any. */
  private ownerAbove(q: number): number {
    let k = q - 1;
    let blanks = 0;
    while (k >= 0 && this.blank(k)) {
      k--;
      blanks++;
    }
    if (k < 0 || blanks > 2 || this.lines.quoted(k)) return q;
    if (this.lines.rule(k)) return k;
    const t = this.line(k);
    if (this.separator(t) || BARE_RULE.test(t)) return k;
    // what a client writes above its quote ends with a colon or a verb, or names a date or an
    // address; a greeting directly above a bottom-quoted reply ("Hello") does not
    const endish = mayEndAttribution(t);
    if (!endish && (blanks > 0 || SENTENCE_END.test(t) || !(DATE.test(t) || TIME.test(t) || ADDRESS.test(t)))) return q;
    return this.attributionStart(k, true) ?? q;
  }

  /** The first line of the quoted thread, and which form marked it. */
  find(maxLines = 20000): QuoteStart | undefined {
    const lines = this.lines;
    for (let i = 0; i < maxLines && lines.has(i); i++) {
      if (lines.quoted(i)) return { line: this.ownerAbove(i), marker: 'quoted' };
      if (lines.rule(i)) {
        let j = i + 1;
        while (lines.has(j) && j - i <= 3 && this.blank(j)) j++;
        if (lines.has(j) && this.headerBlock(j)) return { line: i, marker: 'rule-header-block' };
        continue;
      }
      const t = this.line(i);
      if (t === '' || t.length > 1000) continue;
      const c = t.charCodeAt(0);
      // '-', '_', '=', '~', '*', '•'
      if (c === 45 || c === 95 || c === 61 || c === 126 || c === 42 || c === 0x2022) {
        const sep = this.separator(t);
        if (sep) return { line: i, marker: sep };
      }
      if (endsColon(t) && FORWARD_INTROS.has(norm(t).replace(/\s*[:：]$/, ''))) return { line: i, marker: 'forwarded' };
      if (this.headerBlock(i)) return { line: this.separatorAbove(i), marker: 'from-sent-block' };
      if (mayEndAttribution(t)) {
        const s = this.attributionStart(i, false);
        if (s !== undefined) return { line: s, marker: s < i ? 'attribution-wrapped' : 'attribution' };
      }
    }
    return undefined;
  }
}

export function findQuoteStart(lines: QuoteLines, maxLines?: number): QuoteStart | undefined {
  return new QuoteHeaderSearch(lines).find(maxLines);
}
