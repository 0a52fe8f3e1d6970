// Derives the plain-text twin of a rendered HTML block, for templates without a .txt.hbs.
// Signatures are small and written by admins, so a tolerant tag scanner is enough: block
// elements, table cells and rows and <br> become line breaks, links become `text <url>`,
// images and hidden content disappear, entities are decoded.

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  ndash: '–', mdash: '—', hellip: '…', bull: '•', middot: '·', laquo: '«', raquo: '»',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', euro: '€', pound: '£', yen: '¥', cent: '¢',
  sect: '§', para: '¶', deg: '°', times: '×', shy: '', zwnj: '', zwj: '', ensp: ' ', emsp: ' ', thinsp: ' ',
};

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
      return String.fromCodePoint(code);
    }
    const v = NAMED_ENTITIES[body];
    return v ?? whole;
  });
}

const BLOCK_TAGS = new Set([
  'p', 'div', 'tr', 'table', 'tbody', 'thead', 'tfoot', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'blockquote', 'section', 'article', 'header', 'footer', 'address', 'pre', 'center', 'dl', 'dt', 'dd', 'hr',
  'td', 'th', 'caption', 'figure', 'figcaption', 'main', 'nav', 'aside',
]);
const PARAGRAPH_TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'table', 'ul', 'ol', 'hr']);
const SKIP_CONTENT = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'xml']);

interface Link {
  href: string;
  start: number; // index in `out` where the link text starts
}

/** Plain text of an HTML fragment. Lines are separated by "\n"; no trailing newline. */
export function htmlToText(html: string): string {
  let out = '';
  const links: Link[] = [];
  const len = html.length;
  let i = 0;
  let skipUntil: string | undefined;
  // A pending break: 1 = line break, 2 = blank line. Emitted lazily before the next text so
  // that nested blocks do not pile up empty lines.
  let pending = 0;
  let pendingSpace = false;

  const emitText = (raw: string): void => {
    const text = decodeEntities(raw.replace(/[\t\n\r\f ]+/g, ' '));
    if (text === '') return;
    let t = text;
    if (out === '' || out.endsWith('\n')) t = t.replace(/^ +/, '');
    if (t === '') {
      return;
    }
    if (pending > 0 && out !== '') {
      out = out.replace(/ +$/, '') + (pending === 2 ? '\n\n' : '\n');
      t = t.replace(/^ +/, '');
    } else if (pendingSpace && out !== '' && !out.endsWith(' ') && !out.endsWith('\n') && !t.startsWith(' ')) {
      out += ' ';
    }
    pending = 0;
    pendingSpace = false;
    out += t;
  };
  const brk = (level: number): void => {
    if (level > pending) pending = level;
  };

  while (i < len) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      if (!skipUntil) emitText(html.slice(i));
      break;
    }
    if (lt > i && !skipUntil) emitText(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? len : end + 3;
      continue;
    }
    const gt = findTagEnd(html, lt + 1);
    if (gt === -1) {
      if (!skipUntil) emitText(html.slice(lt));
      break;
    }
    const tag = html.slice(lt + 1, gt);
    i = gt + 1;
    const m = /^(\/?)([A-Za-z][A-Za-z0-9:-]*)/.exec(tag);
    if (!m) {
      if (!skipUntil && !tag.startsWith('!') && !tag.startsWith('?')) emitText(html.slice(lt, gt + 1));
      continue;
    }
    const closing = m[1] === '/';
    const name = m[2]!.toLowerCase();
    if (skipUntil) {
      if (closing && name === skipUntil) skipUntil = undefined;
      continue;
    }
    if (SKIP_CONTENT.has(name) && !closing && !tag.endsWith('/')) {
      skipUntil = name;
      continue;
    }
    if (name === 'br') {
      if (pending === 0) {
        out = out.replace(/ +$/, '') + '\n';
      } else {
        brk(pending);
      }
      continue;
    }
    if (name === 'a') {
      if (!closing) {
        const href = attribute(tag, 'href');
        links.push({ href: href ?? '', start: out.length });
      } else {
        const link = links.pop();
        if (link && link.href !== '') {
          const text = out.slice(Math.min(link.start, out.length)).trim();
          const target = describeHref(link.href, text);
          if (target !== '') out += (text === '' ? '' : ' ') + `<${target}>`;
        }
      }
      continue;
    }
    if (name === 'img') {
      continue; // logos and pictures have no text form
    }
    if (name === 'td' || name === 'th') {
      if (!closing) pendingSpace = true;
      else brk(1);
      continue;
    }
    if (BLOCK_TAGS.has(name)) {
      brk(PARAGRAPH_TAGS.has(name) ? 2 : 1);
      if (name === 'li' && !closing) {
        emitText('- ');
      }
      continue;
    }
    // Inline tags (span, b, strong, font …): no break. A space between adjacent inline
    // runs is kept only when the source had one.
  }
  return out
    .split('\n')
    .map((l) => l.replace(/[ \u00a0]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}

function findTagEnd(html: string, from: number): number {
  let quote: string | undefined;
  for (let j = from; j < html.length; j++) {
    const c = html[j];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return j;
    } else if (c === '<' && j === from) {
      return -1;
    }
  }
  return -1;
}

function attribute(tag: string, name: string): string | undefined {
  const re = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i');
  const m = re.exec(tag);
  if (!m) return undefined;
  return decodeEntities(m[2] ?? m[3] ?? m[4] ?? '').trim();
}

/** The `<url>` shown after a link's text, or '' when the text already says it. */
function describeHref(href: string, text: string): string {
  const lower = href.toLowerCase();
  if (lower.startsWith('javascript:') || lower.startsWith('data:') || lower.startsWith('#')) return '';
  if (lower.startsWith('mailto:')) {
    const addr = decodeURIComponentSafe(href.slice(7).split('?')[0] ?? '');
    return text.toLowerCase() === addr.toLowerCase() ? '' : addr;
  }
  if (lower.startsWith('tel:')) {
    const digits = href.slice(4).replace(/[^0-9+]/g, '');
    return text.replace(/[^0-9+]/g, '') === digits ? '' : href.slice(4);
  }
  const bare = href.replace(/^https?:\/\//i, '').replace(/\/$/, '');
  if (text === href || text === bare || text.replace(/\/$/, '') === bare) return '';
  return href;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
