// Derives the plain-text twin of a rendered HTML block, for templates without a .txt.hbs.
// Signatures are small and written by admins, so a tolerant tag scanner is enough: block
// elements, table cells and rows and <br> become line breaks, links become `text <url>`,
// images and hidden content disappear, entities are decoded.

// The 252 named entities of HTML 4 (Latin-1, symbols, Greek, punctuation), as name:hex
// pairs; admins write &auml; or &copy; in templates, and they must read right in plain text.
const HTML4_ENTITIES =
  'AElig:c6 Aacute:c1 Acirc:c2 Agrave:c0 Alpha:391 Aring:c5 Atilde:c3 Auml:c4 Beta:392 Ccedil:c7 ' +
  'Chi:3a7 Dagger:2021 Delta:394 ETH:d0 Eacute:c9 Ecirc:ca Egrave:c8 Epsilon:395 Eta:397 Euml:cb ' +
  'Gamma:393 Iacute:cd Icirc:ce Igrave:cc Iota:399 Iuml:cf Kappa:39a Lambda:39b Mu:39c Ntilde:d1 Nu:39d ' +
  'OElig:152 Oacute:d3 Ocirc:d4 Ograve:d2 Omega:3a9 Omicron:39f Oslash:d8 Otilde:d5 Ouml:d6 Phi:3a6 ' +
  'Pi:3a0 Prime:2033 Psi:3a8 Rho:3a1 Scaron:160 Sigma:3a3 THORN:de Tau:3a4 Theta:398 Uacute:da Ucirc:db ' +
  'Ugrave:d9 Upsilon:3a5 Uuml:dc Xi:39e Yacute:dd Yuml:178 Zeta:396 aacute:e1 acirc:e2 acute:b4 ' +
  'aelig:e6 agrave:e0 alefsym:2135 alpha:3b1 amp:26 and:2227 ang:2220 aring:e5 asymp:2248 atilde:e3 ' +
  'auml:e4 bdquo:201e beta:3b2 brvbar:a6 bull:2022 cap:2229 ccedil:e7 cedil:b8 cent:a2 chi:3c7 circ:2c6 ' +
  'clubs:2663 cong:2245 copy:a9 crarr:21b5 cup:222a curren:a4 dArr:21d3 dagger:2020 darr:2193 deg:b0 ' +
  'delta:3b4 diams:2666 divide:f7 eacute:e9 ecirc:ea egrave:e8 empty:2205 emsp:2003 ensp:2002 ' +
  'epsilon:3b5 equiv:2261 eta:3b7 eth:f0 euml:eb euro:20ac exist:2203 fnof:192 forall:2200 frac12:bd ' +
  'frac14:bc frac34:be frasl:2044 gamma:3b3 ge:2265 gt:3e hArr:21d4 harr:2194 hearts:2665 hellip:2026 ' +
  'iacute:ed icirc:ee iexcl:a1 igrave:ec image:2111 infin:221e int:222b iota:3b9 iquest:bf isin:2208 ' +
  'iuml:ef kappa:3ba lArr:21d0 lambda:3bb lang:2329 laquo:ab larr:2190 lceil:2308 ldquo:201c le:2264 ' +
  'lfloor:230a lowast:2217 loz:25ca lrm:200e lsaquo:2039 lsquo:2018 lt:3c macr:af mdash:2014 micro:b5 ' +
  'middot:b7 minus:2212 mu:3bc nabla:2207 nbsp:a0 ndash:2013 ne:2260 ni:220b not:ac notin:2209 ' +
  'nsub:2284 ntilde:f1 nu:3bd oacute:f3 ocirc:f4 oelig:153 ograve:f2 oline:203e omega:3c9 omicron:3bf ' +
  'oplus:2295 or:2228 ordf:aa ordm:ba oslash:f8 otilde:f5 otimes:2297 ouml:f6 para:b6 part:2202 ' +
  'permil:2030 perp:22a5 phi:3c6 pi:3c0 piv:3d6 plusmn:b1 pound:a3 prime:2032 prod:220f prop:221d ' +
  'psi:3c8 quot:22 rArr:21d2 radic:221a rang:232a raquo:bb rarr:2192 rceil:2309 rdquo:201d real:211c ' +
  'reg:ae rfloor:230b rho:3c1 rlm:200f rsaquo:203a rsquo:2019 sbquo:201a scaron:161 sdot:22c5 sect:a7 ' +
  'shy:ad sigma:3c3 sigmaf:3c2 sim:223c spades:2660 sub:2282 sube:2286 sum:2211 sup:2283 sup1:b9 ' +
  'sup2:b2 sup3:b3 supe:2287 szlig:df tau:3c4 there4:2234 theta:3b8 thetasym:3d1 thinsp:2009 thorn:fe ' +
  'tilde:2dc times:d7 trade:2122 uArr:21d1 uacute:fa uarr:2191 ucirc:fb ugrave:f9 uml:a8 upsih:3d2 ' +
  'upsilon:3c5 uuml:fc weierp:2118 xi:3be yacute:fd yen:a5 yuml:ff zeta:3b6 zwj:200d zwnj:200c ';

const NAMED_ENTITIES: Readonly<Record<string, string>> = (() => {
  const table: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of HTML4_ENTITIES.trim().split(' ')) {
    const [name, hex] = pair.split(':');
    table[name!] = String.fromCodePoint(parseInt(hex!, 16));
  }
  table.apos = "'";
  table.nbsp = ' '; // plain text: a normal space
  return table;
})();

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
