// An HTML part as the lines a reader sees, for the quote-header recogniser: block elements and
// `<br>` end lines, `<hr>` is a line of its own, entities are decoded, `<style>`/`<script>` and
// comments are skipped, and every line remembers where its text begins in the HTML so that a
// quote header found in the text maps back to a place in the markup. Lines inside a quoting
// `<blockquote>` are quoted lines. Strings only, no DOM: this runs on the signing hot path.
import type { QuoteLines } from './header.ts';
import { latin1EntityName } from './words.ts';

interface HtmlLine {
  text: string;
  /** Index in the HTML of the line's first visible character (of the `<hr>` for a rule). */
  start: number;
  quoted: boolean;
  rule: boolean;
}

/** Elements that begin and end a line of their own. */
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'center', 'dd', 'div', 'dl', 'dt', 'fieldset', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'tbody', 'thead',
  'tfoot', 'tr', 'ul', 'caption',
]);
/** Elements whose content nobody sees. */
const HIDDEN = new Set(['style', 'script', 'head', 'title', 'xml', 'template', 'noscript', 'o:smarttagtype']);

const NAMED: Record<string, string> = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", ndash: '–', mdash: '—', hellip: '…', laquo: '«', raquo: '»',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•', middot: '·', shy: '', zwnj: '', zwj: '', lrm: '', rlm: '', ensp: ' ', emsp: ' ', thinsp: ' ',
};
for (let c = 0xc0; c <= 0xff; c++) {
  const ch = String.fromCharCode(c);
  const name = latin1EntityName(ch);
  if (!name) continue;
  NAMED[name] = ch.toLowerCase();
  NAMED[name[0]!.toUpperCase() + name.slice(1)] = ch.toUpperCase() === ch ? ch : ch.toUpperCase();
}

const ENTITY = /&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z][a-z0-9]{1,31}));?/gi;

function decode(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (all, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (dec || hex) {
      const code = dec ? Number(dec) : parseInt(hex!, 16);
      return code > 0 && code <= 0x10ffff ? (code === 0xa0 ? ' ' : String.fromCodePoint(code)) : '';
    }
    return NAMED[name!] ?? NAMED[name!.toLowerCase()] ?? all;
  });
}

const NOT_BLANK = /\S/;
const QUOTED = /^\s*>/;
const TAG_NAME = /^<\/?([a-zA-Z][a-zA-Z0-9:-]*)/;
const LEADING_SPACE = /^(?:\s|&nbsp;|&#0*160;|&#x0*a0;)+/i;

/**
 * A `<blockquote>` quotes unless it is an indentation (Gmail writes `border:none` on those); a
 * bare one quotes only when it runs to the end of the part, as a quoted thread does.
 */
function isQuoteBlockquote(html: string, tagStart: number, tag: string, end: number): boolean {
  if (/\bborder\s*:\s*none\b/i.test(tag) && !/\bborder-left\s*:\s*(?!none)/i.test(tag)) return false;
  if (/\s(?:type|class|style|id|cite)\s*=/i.test(tag)) return true;
  const close = blockquoteEnd(html, tagStart);
  if (close < 0) return true;
  return !/[^\s]/.test(html.slice(close, end).replace(/<!--[\s\S]*?-->|<[^<>]*>|&nbsp;|&#0*160;/gi, ''));
}

/** End of the blockquote that starts at `from` (nested ones counted), or -1. */
export function blockquoteEnd(html: string, from: number): number {
  const re = /<(\/?)blockquote\b[^<>]*>/gi;
  re.lastIndex = from;
  let depth = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return m.index + m[0].length;
  }
  return -1;
}

export class HtmlLines implements QuoteLines {
  private readonly list: HtmlLine[] = [];

  /**
   * Projects html[from, to) (to: where a structural marker already ends the newest text); with
   * `quoteAtEnd`, a quoted line at `to` stands for the quote that begins there.
   */
  constructor(private readonly html: string, from: number, to: number, quoteAtEnd = false) {
    this.project(from, to);
    if (quoteAtEnd) this.list.push({ text: '', start: to, quoted: true, rule: false });
  }

  has(i: number): boolean {
    return i < this.list.length;
  }
  text(i: number): string {
    return this.list[i]?.text ?? '';
  }
  quoted(i: number): boolean {
    return this.list[i]?.quoted ?? false;
  }
  rule(i: number): boolean {
    return this.list[i]?.rule ?? false;
  }
  /** Where line i begins in the HTML. */
  start(i: number): number {
    return this.list[i]!.start;
  }

  private project(from: number, to: number): void {
    const html = this.html;
    const quotes: boolean[] = [];
    let quoteDepth = 0;
    let text = '';
    let start = -1;
    const flush = (force: boolean): void => {
      if (force || NOT_BLANK.test(text)) {
        const quoted = quoteDepth > 0 || QUOTED.test(text);
        this.list.push({ text, start: start < 0 ? pos : start, quoted, rule: false });
      }
      text = '';
      start = -1;
    };
    let pos = from;
    while (pos < to) {
      const lt = html.indexOf('<', pos);
      const textEnd = lt < 0 || lt > to ? to : lt;
      if (textEnd > pos) {
        const raw = html.slice(pos, textEnd);
        if (start < 0) {
          const lead = LEADING_SPACE.exec(raw);
          const skip = lead ? lead[0].length : 0;
          if (skip < raw.length) start = pos + skip;
        }
        text += decode(raw);
      }
      if (textEnd >= to) break;
      // a tag (or a comment) at lt
      if (html.startsWith('<!--', lt)) {
        const end = html.indexOf('-->', lt + 4);
        pos = end < 0 ? to : end + 3;
        continue;
      }
      const gt = html.indexOf('>', lt);
      if (gt < 0) break;
      const tag = html.slice(lt, gt + 1);
      const m = TAG_NAME.exec(tag);
      pos = gt + 1;
      if (!m) {
        if (start < 0) start = lt;
        text += decode(tag);
        continue;
      }
      const name = m[1]!.toLowerCase();
      const closing = tag.charCodeAt(1) === 47;
      if (!closing && HIDDEN.has(name)) {
        const close = new RegExp(`</${name}\\b`, 'gi');
        close.lastIndex = pos;
        const end = close.exec(html);
        pos = end ? end.index : to;
        continue;
      }
      if (name === 'br') {
        flush(true);
      } else if (name === 'hr') {
        flush(false);
        this.list.push({ text: '', start: lt, quoted: quoteDepth > 0, rule: true });
      } else if (name === 'blockquote') {
        flush(false);
        if (closing) {
          if (quotes.pop()) quoteDepth--;
        } else {
          const q = isQuoteBlockquote(html, lt, tag, to);
          quotes.push(q);
          if (q) quoteDepth++;
        }
      } else if (BLOCK.has(name)) {
        flush(false);
      } else if (name === 'td' || name === 'th') {
        text += ' ';
      }
    }
    flush(false);
  }
}
