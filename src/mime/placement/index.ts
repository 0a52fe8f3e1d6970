// Where a person would put the signature: directly under the newest text of a reply or
// forward, above the quoted thread. Works on decoded text (HTML as a string, no DOM). Two kinds
// of evidence, the earliest in the document wins:
//   * HTML structure a client writes around the quote (gmail_quote, moz-cite-prefix,
//     divRplyFwdMsg, yahoo_quoted, a top-bordered header div …): HTML_MARKERS below;
//   * the quote header a reader sees (attribution, header block, separator, `>` lines): the
//     line recogniser of header.ts, on plain text as it is and on HTML projected to lines
//     (html-lines.ts), so every language and form is written once. Its words are in words.ts.
import type { Placement } from '../../model/index.ts';
import { findQuoteStart, type QuoteLines } from './header.ts';
import { HtmlLines, blockquoteEnd } from './html-lines.ts';
import { htmlAlternatives, quoteWords } from './words.ts';

export interface Spot {
  /** Where the signature goes (string index). */
  readonly index: number;
  /** End of the newest text: everything before the first quote marker (or the whole text). */
  readonly newestEnd: number;
  /** Which marker decided, for tests and debugging ('bottom' when none). */
  readonly marker: string;
}

interface Hit {
  index: number;
  marker: string;
}

// The HTML-source markers below use the words of the languages they were written for (the
// line recogniser knows them all); built once at load, as the search runs on the hot path.
const SOURCE_LANGUAGES = ['en', 'de', 'fr', 'es', 'pt', 'it', 'nl', 'sv', 'da', 'pl', 'ru', 'uk', 'tr', 'hu', 'fi', 'ja', 'zh-Hans', 'zh-Hant', 'ko'];
const ATTRIBUTION_LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'sv', 'pl'];
const WORDS = {
  // (the attribution before a <blockquote>: a regex over the markup, kept to the languages it
  // was written for; every other attribution is the line recogniser's)
  leads: quoteWords('attributionLeads', ATTRIBUTION_LANGUAGES),
  verbs: quoteWords('attributionVerbs', ATTRIBUTION_LANGUAGES),
  from: quoteWords('from', SOURCE_LANGUAGES),
  sent: quoteWords('sent', SOURCE_LANGUAGES),
  subject: quoteWords('subject', SOURCE_LANGUAGES),
  separators: quoteWords('separators', SOURCE_LANGUAGES),
};
/** A header field's colon: Outlook in Chinese, Japanese and Korean writes the full-width one. */
const FIELD_COLON = String.raw`\s*[:：]`;

// ---------------------------------------------------------------- HTML

const HTML_FROM = htmlAlternatives(WORDS.from);
const HTML_SENT = htmlAlternatives(WORDS.sent);
const HTML_SUBJECT = htmlAlternatives(WORDS.subject);
const BOLD_SUBJECT_AHEAD = new RegExp(String.raw`<b\b[^<>]*>(?:\s|<[^<>]*>)*${HTML_SUBJECT}${FIELD_COLON}`, 'i');
const ADDRESS_AHEAD = /@|&lt;|&#0*60;|mailto:/i;

/** Start of the tag that contains position `i` (the `<` before it). */
function tagStart(html: string, i: number): number {
  const lt = html.lastIndexOf('<', i);
  return lt < 0 ? i : lt;
}

const OPEN_DIV_BEFORE = /<div\b[^<>]*>\s*$/i;
const HR_BEFORE = /<hr\b[^<>]*>\s*(?:<br\s*\/?>\s*)?$/i;
const APPENDONSEND_BEFORE = /<div\b[^<>]*id\s*=\s*["']?(?:x_)?appendonsend["']?[^<>]*>\s*<\/div>\s*$/i;

/**
 * Moves an insertion point out of wrapper elements that begin right there: a quote header
 * wrapped in a bare `<div>` (Outlook's `<div><div style="border-top…">`) should get the
 * signature before the wrapper, not inside it.
 */
function climb(html: string, index: number, limit = 3): number {
  let i = index;
  for (let n = 0; n < limit; n++) {
    const before = html.slice(Math.max(0, i - 400), i);
    const m = OPEN_DIV_BEFORE.exec(before);
    if (!m) break;
    const tag = m[0];
    // never climb out of the element holding the newest text (it has content before the quote)
    if (/class\s*=\s*["']?(?:x_)?WordSection1/i.test(tag) || /sigops-signature/i.test(tag)) break;
    i = i - (before.length - m.index);
  }
  return i;
}

/** OWA / new Outlook: `<div id="appendonsend"></div>` and `<hr tabindex="-1">` precede divRplyFwdMsg. */
function beforeOwaSeparator(html: string, index: number): number {
  let i = index;
  for (let n = 0; n < 3; n++) {
    const before = html.slice(Math.max(0, i - 600), i);
    const m = HR_BEFORE.exec(before) ?? APPENDONSEND_BEFORE.exec(before);
    if (!m) break;
    i = i - (before.length - m.index);
  }
  return i;
}

const ATTRIBUTION_END = new RegExp(String.raw`${htmlAlternatives(WORDS.verbs)}[^<>]{0,80}?:\s*(?:<[^<>]*>\s*|&nbsp;\s*)*$`, 'i');
const ATTRIBUTION_START = new RegExp(String.raw`(?:^|>|\s|&nbsp;)(${htmlAlternatives(WORDS.leads)}(?:\s|&nbsp;))`, 'gi');

/** An "On … wrote:" line right before a `<blockquote>` belongs to the quote (Apple Mail, AOL …). */
function beforeAttribution(html: string, index: number): number {
  const from = Math.max(0, index - 1500);
  const before = html.slice(from, index);
  // the verb ends the text right before the quote: look for it in the last few hundred characters
  const tailFrom = Math.max(0, before.length - 600);
  const m = ATTRIBUTION_END.exec(tailFrom > 0 ? before.slice(tailFrom) : before);
  const end = m ? { index: m.index + tailFrom } : undefined;
  if (!end) return index;
  const head = before.slice(0, end.index);
  let start = -1;
  for (const m of head.matchAll(ATTRIBUTION_START)) start = m.index + m[0].length - m[1]!.length;
  if (start < 0 || end.index - start > 700) return index;
  // the attribution starts the element that holds it: move before that element's tag
  let i = from + start;
  const tagBefore = /<(?:div|p|span|font)\b[^<>]*>\s*$/i.exec(html.slice(Math.max(0, i - 300), i));
  if (tagBefore) i -= tagBefore[0].length;
  return climb(html, i);
}

interface HtmlMarker {
  name: string;
  /** Lower-case literals the marker cannot match without: a cheap test before the regex. */
  needles: readonly string[];
  re: RegExp;
  place(html: string, matchIndex: number, match: RegExpExecArray): number;
}

const elementStart = (html: string, i: number): number => climb(html, tagStart(html, i));

const HTML_MARKERS: HtmlMarker[] = [
  { name: 'owa-appendonsend', needles: ['appendonsend'], re: /<div\b[^<>]*\bid\s*=\s*["']?(?:x_)?appendonsend\b/i, place: (_h, i) => i },
  {
    name: 'outlook-divRplyFwdMsg', needles: ['divrplyfwdmsg'],
    re: /\bid\s*=\s*["']?(?:x_)?divRplyFwdMsg\b/i,
    place: (h, i) => climb(h, beforeOwaSeparator(h, tagStart(h, i))),
  },
  { name: 'owa-hr', needles: ['tabindex'], re: /<hr\b[^<>]*\btabindex\s*=\s*["']?-1\b[^<>]*>/i, place: (h, i) => beforeOwaSeparator(h, i) },
  {
    name: 'outlook-mobile', needles: ['reference-message'],
    re: /\b(?:id|class)\s*=\s*["']?(?:x_)?(?:ms-outlook-mobile-reference-message|mail-editor-reference-message-container)\b/i,
    place: (h, i) => climb(h, beforeOwaSeparator(h, tagStart(h, i))),
  },
  { name: 'outlook-mac', needles: ['olk_src_body_section'], re: /\bid\s*=\s*["']?(?:x_)?OLK_SRC_BODY_SECTION\b/i, place: elementStart },
  { name: 'gmail', needles: ['gmail_'], re: /\bclass\s*=\s*["']?(?:[^"'<>]*\s)?(?:x_)?gmail_(?:quote|attr)\b/i, place: elementStart },
  { name: 'thunderbird', needles: ['moz-'], re: /\bclass\s*=\s*["']?(?:[^"'<>]*\s)?(?:x_)?moz-(?:cite-prefix|forward-container)\b/i, place: elementStart },
  { name: 'yahoo', needles: ['yahoo_quoted'], re: /\b(?:class|id)\s*=\s*["']?(?:[^"'<>]*\s)?(?:x_)?[\w-]*yahoo_quoted(?:_\d+)?\b/i, place: elementStart },
  {
    // Outlook desktop (Word HTML, #E1E1E1 / #B5C4DF), Outlook for Mac and Windows Mail: a header
    // block with a top border whose first words are From:/Von:/De :
    name: 'border-top-header', needles: ['border-top'],
    re: new RegExp(String.raw`<div\b[^<>]*style\s*=\s*["'][^"']*border-top(?:-style|-color|-width)?\s*:[^"']*["'][^<>]*>(?=(?:\s|<[^<>]*>|&nbsp;){0,40}?${HTML_FROM}${FIELD_COLON})`, 'i'),
    place: (h, i) => climb(h, i),
  },
  {
    name: 'blockquote-cite', needles: ['blockquote'],
    re: /<blockquote\b[^<>]*\btype\s*=\s*["']?cite\b/i,
    place: (h, i) => beforeAttribution(h, i),
  },
  {
    name: 'original-message', needles: ['--'],
    re: new RegExp(String.raw`-{2,}\s*${htmlAlternatives(WORDS.separators)}\s*-{2,}`, 'i'),
    place: (h, i) => textStartInHtml(h, i),
  },
  {
    // older Outlook and webmails: a bold "From:" line followed by a bold "Sent:"/"Date:" line
    name: 'bold-from-sent', needles: ['<b'],
    re: new RegExp(
      String.raw`<b\b[^<>]*>(?:\s|<[^<>]*>)*${HTML_FROM}${FIELD_COLON}(?:\s|&nbsp;|<[^<>]*>)*<\/b>(?=[\s\S]{0,1200}?<b\b[^<>]*>(?:\s|<[^<>]*>)*${HTML_SENT}${FIELD_COLON})`,
      'i',
    ),
    // a mail's own header names its sender's address or a Subject; a From:/To:/Date: table in
    // the newest text (an itinerary) has neither
    place: (h, i) => (BOLD_SUBJECT_AHEAD.test(h.slice(i, i + 2400)) || ADDRESS_AHEAD.test(h.slice(i, i + 400)) ? beforeOwaSeparator(h, textStartInHtml(h, i)) : -1),
  },
  { name: 'protonmail', needles: ['protonmail_quote'], re: /\bclass\s*=\s*["']?(?:[^"'<>]*\s)?(?:x_)?protonmail_quote\b/i, place: elementStart },
  { name: 'outlook-2003', needles: ['outlookmessageheader'], re: /\bclass\s*=\s*["']?(?:x_)?OutlookMessageHeader\b/i, place: (h, i) => climb(h, beforeOwaSeparator(h, tagStart(h, i))) },
  { name: 'zimbra-hr', needles: ['zwchr'], re: /<hr\b[^<>]*\bid\s*=\s*["']?zwchr\b/i, place: (_h, i) => i },
  { name: 'hotmail', needles: ['skydriveplaceholder'], re: /\bid\s*=\s*["']?(?:x_|ecx)?SkyDrivePlaceholder\b/i, place: elementStart },
  {
    // quoted lines written as "&gt; " at the start of an HTML line (old webmails)
    name: 'gt-quoted', needles: ['&gt;'],
    re: /(?:<br\s*\/?>|<div\b[^<>]*>|<p\b[^<>]*>)\s*&gt;[ \u00a0]/i,
    place: (h, i) => {
      const m = /^(?:<br\s*\/?>|<div\b[^<>]*>|<p\b[^<>]*>)\s*/i.exec(h.slice(i));
      return /^<br/i.test(m?.[0] ?? '') ? i + m![0].length : i;
    },
  },
  {
    name: 'blockquote-attributed', needles: ['blockquote'],
    re: /<blockquote\b/i,
    place: (h, i) => {
      const moved = beforeAttribution(h, i);
      return moved === i ? -1 : moved; // a bare <blockquote> is not a quote unless attributed
    },
  },
];

/** For a marker found in text: the start of the block element it begins (or the text itself). */
function textStartInHtml(html: string, i: number): number {
  const m = /<(?:div|p|span|font|b)\b[^<>]*>(?:\s|<(?:span|font|b)\b[^<>]*>)*$/i.exec(html.slice(Math.max(0, i - 400), i));
  return climb(html, m ? i - m[0].length : i);
}

const BODY_CLOSE = /<\/body\s*>/gi;

function htmlBottom(html: string): number {
  let last = -1;
  for (const m of html.matchAll(BODY_CLOSE)) last = m.index;
  if (last >= 0) return last;
  const htmlClose = html.search(/<\/html\s*>\s*$/i);
  return htmlClose >= 0 ? htmlClose : html.length;
}

/** Index in `html` of the first point past <body> (markers in <head>/<style> are ignored). */
function bodyStart(html: string): number {
  const m = /<body\b[^<>]*>/i.exec(html);
  return m ? m.index + m[0].length : 0;
}

const escapeRe = (s: string): string => s.replace(/[-\/\\^$*+?.()|[\]{}]/g, '\\$&');
/** Needles that nearly every HTML document has early on: a plain search finds them at once. */
const COMMON_NEEDLES = new Set(['--', '<b', '&gt;']);
const COMMON_RE = new Map([...COMMON_NEEDLES].map((n) => [n, new RegExp(escapeRe(n), 'i')]));
/**
 * All the rare needles in one case-insensitive pass: a lower-cased copy of a 1 MB part and a
 * dozen full scans for needles that are absent cost milliseconds on the event loop. (A marker's
 * regex is case-insensitive too, so it cannot match where this finds its needle absent.)
 */
const RARE_RE = new RegExp(
  [...new Set(HTML_MARKERS.flatMap((m) => m.needles))].filter((n) => !COMMON_NEEDLES.has(n)).map(escapeRe).join('|'),
  'gi',
);

function presentNeedles(body: string): (needle: string) => boolean {
  const rare = new Set<string>();
  RARE_RE.lastIndex = 0;
  for (let m = RARE_RE.exec(body); m; m = RARE_RE.exec(body)) rare.add(m[0].toLowerCase());
  const common = new Map<string, boolean>();
  return (n) => {
    const re = COMMON_RE.get(n);
    if (!re) return rare.has(n);
    let found = common.get(n);
    if (found === undefined) common.set(n, (found = re.test(body)));
    return found;
  };
}

export function findHtmlQuote(html: string): Hit | undefined {
  const start = bodyStart(html);
  const body = start > 0 ? html.slice(start) : html;
  const has = presentNeedles(body);
  let best: Hit | undefined;
  for (const marker of HTML_MARKERS) {
    if (!marker.needles.some(has)) continue;
    const m = marker.re.exec(body);
    if (!m) continue;
    let at = marker.place(html, start + m.index, m);
    if (at < 0) continue;
    if (at < start) at = start; // climbing never leaves <body>
    if (!best || at < best.index) best = { index: at, marker: marker.name };
  }
  // the quote header as a reader sees it, in the newest text only (before any structural marker)
  const end = Math.min(best ? best.index : html.length, start + HTML_SCAN_CHARS);
  // a <blockquote> marker is a quote the recogniser does not see (it ends the projection): a
  // quoted line stands for it, so that the line above it is read as its attribution
  const lines = new HtmlLines(html, start, end, best !== undefined && best.index === end && best.marker.startsWith('blockquote'));
  const found = findQuoteStart(lines);
  if (found) {
    const at = Math.max(start, elementBegin(html, lines.start(found.line), start));
    if (!best || at < best.index) best = { index: at, marker: found.marker };
  }
  return best;
}

/** Tags the signature never moves out of: the newest text's own container, a table cell, <body>. */
const KEEP_INSIDE = /^<(?:body|html|td|th|tr|tbody|thead|table|li|ul|ol)\b|\bWordSection1\b|sigops-signature/i;
const NO_CONTENT_TAG = /^<(?:br|hr|img|wbr|input|meta|link|col|area|base|embed|source|track|param)\b/i;

/**
 * The place in the markup where a quote header's first line begins: before the opening tags that
 * wrap its first character (`<div><p><b>From:`), so the signature goes above the whole element.
 */
function elementBegin(html: string, index: number, floor: number): number {
  let i = index;
  for (let n = 0; n < 12; n++) {
    let j = i;
    while (j > floor && /\s/.test(html[j - 1]!)) j--;
    if (j <= floor || html[j - 1] !== '>') break;
    if (html.startsWith('-->', j - 3)) {
      const c = html.lastIndexOf('<!--', j - 3);
      if (c < floor) break;
      i = c;
      continue;
    }
    const lt = html.lastIndexOf('<', j - 1);
    if (lt < floor) break;
    const tag = html.slice(lt, j);
    if (tag[1] === '/' || tag[1] === '!' || NO_CONTENT_TAG.test(tag) || /\/>$/.test(tag) || KEEP_INSIDE.test(tag)) break;
    i = lt;
  }
  return i;
}

const TAGS_AND_SPACE = /<!--[\s\S]*?-->|<[^<>]*>|&nbsp;|&#160;|\s+/g;

function hasVisibleText(fragment: string): boolean {
  return fragment.replace(TAGS_AND_SPACE, '') !== '';
}

/**
 * Bottom-posting in HTML (Thunderbird, Apple Mail users who answer below the quote): nothing
 * visible above the quote, new text after its closing </blockquote>.
 */
function isHtmlBottomPosted(html: string, quote: Hit): boolean {
  if (hasVisibleText(html.slice(bodyStart(html), quote.index))) return false;
  const end = blockquoteEnd(html, quote.index);
  if (end < 0) return false;
  return hasVisibleText(html.slice(end, htmlBottom(html)));
}

export function placeInHtml(html: string, placement: Placement): Spot {
  const quote = findHtmlQuote(html);
  if (quote && /thunderbird|blockquote|quoted/.test(quote.marker) && isHtmlBottomPosted(html, quote)) {
    return { index: htmlBottom(html), newestEnd: html.length, marker: 'bottom-posted' };
  }
  const newestEnd = quote ? quote.index : html.length;
  if (placement === 'reply' && quote) return { index: quote.index, newestEnd, marker: quote.marker };
  return { index: htmlBottom(html), newestEnd, marker: 'bottom' };
}

const OUR_HTML_MARKER = /\bdata-sigops\s*=|\bid\s*=\s*["']?sigops-signature\b/i;

export function htmlCarriesSignature(newest: string): boolean {
  return OUR_HTML_MARKER.test(newest);
}

// ---------------------------------------------------------------- plain text

const QUOTED_LINE = /^\s*>/;

/**
 * The lines of a text, split only as far as they are read: the quote search stops at the first
 * quote header, and a reply's quoted history (most of its text) is never split.
 */
class Lines implements QuoteLines {
  private readonly lines: string[] = [];
  private readonly starts: number[] = [];
  private pos = 0;
  private done = false;
  constructor(private readonly text_: string) {}

  /** Whether line `i` exists. */
  has(i: number): boolean {
    const text = this.text_;
    while (this.lines.length <= i && !this.done) {
      const pos = this.pos;
      const nl = text.indexOf('\n', pos);
      const end = nl < 0 ? text.length : nl;
      this.starts.push(pos);
      this.lines.push(text.slice(pos, end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end));
      if (nl < 0) this.done = true;
      else this.pos = nl + 1;
    }
    return i < this.lines.length;
  }

  at(i: number): string {
    return this.has(i) ? this.lines[i]! : '';
  }

  text(i: number): string {
    return this.at(i);
  }

  quoted(i: number): boolean {
    return QUOTED_LINE.test(this.at(i));
  }

  rule(): boolean {
    return false;
  }

  start(i: number): number {
    this.has(i);
    return this.starts[i]!;
  }
}

/**
 * How far the quote header is looked for: a newest text longer than this is not a reply anyone
 * writes, and the bound keeps a large part without a quote cheap.
 */
const TEXT_SCAN_LINES = 2000;
const HTML_SCAN_CHARS = 64 * 1024;

/** A line of a quoted message's header block ("Von: …", "Betreff: …") or its separator. */
const HEADERISH_LINE = /^\s*(?:[^\s:：][^:：]{0,40}\s?[:：]|[-_=~*]{2,})/u;

/**
 * Bottom-posting (Thunderbird's default) and inline answers: the quote is ">" lines (after at
 * most a three-line attribution, or a header block with its separator), and new, unquoted text
 * follows them. The new text then ends at the end, whatever stands above the quote.
 */
function isBottomPosted(lines: Lines, quoteLine: number): boolean {
  let i = quoteLine;
  let blank = false;
  while (lines.has(i) && !QUOTED_LINE.test(lines.at(i))) {
    const t = lines.at(i);
    if (t.trim() === '') blank = true;
    // an attribution is the header's first lines, unbroken; the body of a quoted message
    // (text after the header's blank line) is not new text
    else if (!HEADERISH_LINE.test(t) && (blank || i - quoteLine >= 3)) return false;
    if (i - quoteLine > 12) return false;
    i++;
  }
  if (!lines.has(i)) return false;
  // … followed by new, unquoted text
  while (lines.has(i) && (QUOTED_LINE.test(lines.at(i)) || lines.at(i).trim() === '')) i++;
  return lines.has(i);
}

export function placeInText(text: string, placement: Placement): Spot {
  const lines = new Lines(text);
  const quote = findQuoteStart(lines, TEXT_SCAN_LINES);
  if (quote && isBottomPosted(lines, quote.line)) return { index: text.length, newestEnd: text.length, marker: 'bottom-posted' };
  const newestEnd = quote ? lines.start(quote.line) : text.length;
  if (placement === 'reply' && quote) return { index: newestEnd, newestEnd, marker: quote.marker };
  return { index: text.length, newestEnd, marker: 'bottom' };
}

/** The text marker is the usual signature delimiter "-- " followed by our rendered first line. */
export function textCarriesSignature(newest: string, signatureText: string): boolean {
  const first = signatureText.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
  if (first === undefined) return false;
  // Lines as newest.split(/\r?\n/) gives them, but only those starting with "--" are looked
  // at: splitting a 1 MB part into lines costs more than the whole search.
  const lineEnd = (nl: number, from: number): number => (nl > from && newest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
  let from = 0;
  for (;;) {
    const k = newest.indexOf('--', from);
    if (k < 0) return false;
    const nl = newest.indexOf('\n', k);
    if (nl < 0) return false; // the last line has no line after it
    from = nl + 1;
    if (k > 0 && newest.charCodeAt(k - 1) !== 10) {
      from = k + 1;
      continue;
    }
    const line = newest.slice(k, lineEnd(nl, k));
    if (line !== '-- ' && line !== '--') continue;
    // the next line that is not blank
    let p = nl + 1;
    let next: string | undefined;
    for (;;) {
      const n2 = newest.indexOf('\n', p);
      const l = newest.slice(p, n2 < 0 ? newest.length : lineEnd(n2, p));
      if (l.trim() !== '') {
        next = l;
        break;
      }
      if (n2 < 0) break;
      p = n2 + 1;
    }
    if (next !== undefined && next.trim().replace(/^ /, '') === first) return true;
  }
}
