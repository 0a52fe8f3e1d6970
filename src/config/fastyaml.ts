// A fast reader for the plain subset of YAML that config files are written in (block maps and
// sequences, one-line flow lists and maps, plain and quoted one-line scalars, comments).
// The `yaml` package reads ~1.5 MB/s, too slow for directories of 50,000 users; this reads
// the common case an order of magnitude faster and gives up (returns undefined) on anything
// outside the subset — anchors, tags, block scalars, multi-line scalars, duplicate keys,
// floats … — so that the full parser handles it, with its exact errors and positions. For
// any input it accepts, the result equals `yaml`'s `parse` (checked by a property test).

/** Data plus, when asked, the start offsets of values and keys by JSON pointer. */
export interface FastYaml {
  readonly data: unknown;
  readonly values?: Map<string, number>;
  readonly keys?: Map<string, number>;
}

interface Line {
  indent: number;
  text: string; // content after the indentation, without the line break
  offset: number; // offset of `text` in the source
}

// Thrown to hand the input to the full parser and caught in fastParseYaml: a signal that never
// leaves this file, not an error anyone sees, so a plain symbol rather than an Error class.
const GIVE_UP: unique symbol = Symbol('outside the fast YAML subset');

// Characters that may not start a plain scalar (or that we do not want to interpret here).
const INDICATOR = /^(?:[?:,[\]{}#&*!|>'"%@`]|-(?:\s|$))/;
const SAFE_KEY = /^[A-Za-z_$][A-Za-z0-9_$.\-]*$/;
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\t]/;
const NULL = /^(?:~|[Nn]ull|NULL)$/;
const TRUE = /^(?:[Tt]rue|TRUE)$/;
const FALSE = /^(?:[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
// Other core-schema numbers (octal, hex, floats, inf, nan): left to the full parser.
const OTHER_NUMBER = /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const JSON_ESCAPES = /\\(?!["\\/bfnrt]|u[0-9a-fA-F]{4})/;

/** First characters of a plain scalar that could resolve to something other than a string. */
const MAYBE_NOT_STRING = /^[~nNtTfF0-9+\-.]/;

function resolvePlain(s: string): unknown {
  if (!MAYBE_NOT_STRING.test(s)) return s;
  if (NULL.test(s)) return null;
  if (TRUE.test(s)) return true;
  if (FALSE.test(s)) return false;
  if (INT.test(s)) {
    if (s.replace(/^[-+]/, '').length > 15) throw GIVE_UP;
    return Number(s);
  }
  if (OTHER_NUMBER.test(s)) throw GIVE_UP;
  return s;
}

export function fastParseYaml(text: string, withPositions: boolean): FastYaml | undefined {
  try {
    return new Reader(text, withPositions).read();
  } catch (err) {
    if (err === GIVE_UP || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

class Reader {
  private readonly lines: Line[] = [];
  private i = 0;
  private readonly values: Map<string, number> | undefined;
  private readonly keys: Map<string, number> | undefined;
  private readonly goodKeys = new Set<string>();

  constructor(private readonly src: string, withPositions: boolean) {
    if (withPositions) {
      this.values = new Map();
      this.keys = new Map();
    }
  }

  read(): FastYaml {
    const src = this.src;
    if (CONTROL.test(src)) throw GIVE_UP;
    let start = 0;
    while (start <= src.length) {
      let end = src.indexOf('\n', start);
      if (end === -1) end = src.length;
      let lineEnd = end;
      if (lineEnd > start && src.charCodeAt(lineEnd - 1) === 13) lineEnd--;
      const raw = src.slice(start, lineEnd);
      if (raw.includes('\r')) throw GIVE_UP;
      let indent = 0;
      while (indent < raw.length && raw.charCodeAt(indent) === 32) indent++;
      const textPart = raw.slice(indent);
      if (textPart !== '' && !textPart.startsWith('#')) {
        if (indent === 0 && (textPart.startsWith('---') || textPart.startsWith('...') || textPart.startsWith('%'))) throw GIVE_UP;
        const last = textPart.charCodeAt(textPart.length - 1);
        this.lines.push({ indent, text: last === 32 ? textPart.replace(/\s+$/, '') : textPart, offset: start + indent });
      }
      start = end + 1;
    }
    if (this.lines.length === 0) return { data: null, ...(this.values ? { values: this.values, keys: this.keys! } : {}) };
    const first = this.lines[0]!;
    if (first.indent !== 0) throw GIVE_UP;
    const data = this.block('', 0);
    if (this.i !== this.lines.length) throw GIVE_UP;
    return { data, ...(this.values ? { values: this.values, keys: this.keys! } : {}) };
  }

  private isSeqLine(l: Line): boolean {
    return l.text === '-' || l.text.startsWith('- ');
  }

  private block(path: string, indent: number): unknown {
    const l = this.lines[this.i]!;
    this.values?.set(path, l.offset);
    return this.isSeqLine(l) ? this.seq(path, indent) : this.map(path, indent);
  }

  private map(path: string, indent: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent < indent) break;
      if (l.indent > indent || this.isSeqLine(l)) throw GIVE_UP;
      const { key, rest, restOffset } = this.splitKey(l);
      if (key === '__proto__' || Object.prototype.hasOwnProperty.call(obj, key)) throw GIVE_UP;
      const p = this.keys ? `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` : '';
      this.keys?.set(p, l.offset);
      this.i++;
      if (rest === '' || rest.startsWith('#')) {
        const next = this.lines[this.i];
        if (next && next.indent > indent) {
          obj[key] = this.block(p, next.indent);
        } else if (next && next.indent === indent && this.isSeqLine(next)) {
          obj[key] = this.block(p, indent);
        } else {
          this.values?.set(p, l.offset);
          obj[key] = null;
        }
      } else {
        this.values?.set(p, restOffset);
        obj[key] = this.inline(rest, p, restOffset);
        const next = this.lines[this.i];
        if (next && next.indent > indent) throw GIVE_UP; // a multi-line scalar or bad indentation
      }
    }
    return obj;
  }

  private seq(path: string, indent: number): unknown[] {
    const arr: unknown[] = [];
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent < indent) break;
      if (l.indent > indent) throw GIVE_UP;
      if (!this.isSeqLine(l)) break; // back to the enclosing map (compact `key:\n- item`)
      if (l.text === '-') throw GIVE_UP;
      let k = 1;
      while (l.text.charCodeAt(k) === 32) k++;
      const rest = l.text.slice(k);
      const col = l.indent + k;
      const p = this.values ? `${path}/${arr.length}` : '';
      if (rest.startsWith('#') || rest.startsWith('- ') || rest === '-') throw GIVE_UP;
      if (this.looksLikeKey(rest)) {
        // `- key: value` opens a map whose keys sit at this column.
        this.lines[this.i] = { indent: col, text: rest, offset: l.offset + k };
        this.values?.set(p, l.offset + k);
        arr.push(this.map(p, col));
      } else {
        this.values?.set(p, l.offset + k);
        this.i++;
        arr.push(this.inline(rest, p, l.offset + k));
        const next = this.lines[this.i];
        if (next && next.indent > indent) throw GIVE_UP;
      }
    }
    return arr;
  }

  private looksLikeKey(s: string): boolean {
    if (s.startsWith('"') || s.startsWith("'")) {
      const end = this.quotedEnd(s);
      return end > 0 && /^\s*:(\s|$)/.test(s.slice(end));
    }
    if (s.startsWith('[') || s.startsWith('{')) return false;
    return /:(\s|$)/.test(s);
  }

  private splitKey(l: Line): { key: string; rest: string; restOffset: number } {
    const t = l.text;
    let key: string;
    let after: number;
    if (t.startsWith('"') || t.startsWith("'")) {
      const end = this.quotedEnd(t);
      if (end < 0) throw GIVE_UP;
      key = this.quoted(t.slice(0, end));
      after = end;
      while (t.charCodeAt(after) === 32) after++;
      if (t[after] !== ':') throw GIVE_UP;
    } else {
      const m = /:(\s|$)/.exec(t);
      if (!m) throw GIVE_UP;
      key = t.slice(0, m.index);
      if (key.charCodeAt(key.length - 1) === 32) key = key.replace(/\s+$/, '');
      if (!this.goodKeys.has(key)) {
        if (!SAFE_KEY.test(key) || NULL.test(key) || TRUE.test(key) || FALSE.test(key)) throw GIVE_UP;
        this.goodKeys.add(key);
      }
      after = m.index;
    }
    after++; // the colon
    while (t.charCodeAt(after) === 32) after++;
    return { key, rest: t.slice(after), restOffset: l.offset + after };
  }

  /** Index just past the closing quote of a quoted scalar at the start of s, or -1. */
  private quotedEnd(s: string): number {
    const q = s[0];
    for (let j = 1; j < s.length; j++) {
      const c = s[j];
      if (q === '"' && c === '\\') { j++; continue; }
      if (c === q) {
        if (q === "'" && s[j + 1] === "'") { j++; continue; }
        return j + 1;
      }
    }
    return -1;
  }

  private quoted(token: string): string {
    const body = token.slice(1, -1);
    if (token[0] === "'") return body.replace(/''/g, "'");
    if (!body.includes('\\')) return body;
    if (JSON_ESCAPES.test(body)) throw GIVE_UP;
    return JSON.parse(`"${body}"`) as string;
  }

  /** Checks that only a comment follows a token. */
  private tail(s: string): void {
    const t = s.replace(/^\s+/, '');
    if (t !== '' && !(t.startsWith('#') && (s.length === 0 || /^\s/.test(s)))) throw GIVE_UP;
  }

  private inline(s: string, path: string, offset: number): unknown {
    const c = s[0];
    if (c === '"' || c === "'") {
      const end = this.quotedEnd(s);
      if (end < 0) throw GIVE_UP;
      this.tail(s.slice(end));
      return this.quoted(s.slice(0, end));
    }
    if (c === '[') return this.flowSeq(s, path, offset);
    if (c === '{') return this.flowMap(s, path, offset);
    return this.plain(s, false);
  }

  private plain(s: string, flow: boolean): unknown {
    if (s === '' || INDICATOR.test(s)) throw GIVE_UP;
    let v = s;
    if (v.includes('#')) {
      const hash = v.search(/\s#/);
      if (hash >= 0) v = v.slice(0, hash).replace(/\s+$/, '');
    }
    if (v.includes(':') && /:(\s|$)/.test(v)) throw GIVE_UP;
    if (flow && /[[\]{},#:]/.test(v)) throw GIVE_UP;
    return resolvePlain(v);
  }

  /** Splits the inside of a one-line flow collection into item strings with their offsets. */
  private flowItems(s: string, close: string, offset: number): { items: { text: string; offset: number }[]; end: number } {
    const items: { text: string; offset: number }[] = [];
    let j = 1;
    let startItem = 1;
    const push = (endIdx: number) => {
      const raw = s.slice(startItem, endIdx);
      const lead = raw.length - raw.replace(/^\s+/, '').length;
      items.push({ text: raw.trim(), offset: offset + startItem + lead });
    };
    while (j < s.length) {
      const ch = s[j];
      if (ch === '"' || ch === "'") {
        const end = this.quotedEnd(s.slice(j));
        if (end < 0) throw GIVE_UP;
        j += end;
        continue;
      }
      if (ch === '[' || ch === '{') throw GIVE_UP; // nested flow collections
      if (ch === ',') { push(j); startItem = j + 1; j++; continue; }
      if (ch === close) {
        push(j);
        if (items.length === 1 && items[0]!.text === '') items.length = 0;
        else if (items.some((x) => x.text === '')) throw GIVE_UP;
        return { items, end: j + 1 };
      }
      if (ch === '#' && /\s/.test(s[j - 1] ?? '')) throw GIVE_UP;
      j++;
    }
    throw GIVE_UP; // not closed on this line
  }

  private flowScalar(t: string): unknown {
    if (t.startsWith('"') || t.startsWith("'")) {
      const end = this.quotedEnd(t);
      if (end !== t.length) throw GIVE_UP;
      return this.quoted(t);
    }
    return this.plain(t, true);
  }

  private flowSeq(s: string, path: string, offset: number): unknown[] {
    const { items, end } = this.flowItems(s, ']', offset);
    this.tail(s.slice(end));
    return items.map((it, k) => {
      if (this.values) this.values.set(`${path}/${k}`, it.offset);
      return this.flowScalar(it.text);
    });
  }

  private flowMap(s: string, path: string, offset: number): Record<string, unknown> {
    const { items, end } = this.flowItems(s, '}', offset);
    this.tail(s.slice(end));
    const obj: Record<string, unknown> = {};
    for (const it of items) {
      const m = /^([A-Za-z_$][A-Za-z0-9_$.\-]*)\s*:\s+(.*)$/.exec(it.text);
      if (!m) throw GIVE_UP;
      const key = m[1]!;
      if (key === '__proto__' || NULL.test(key) || TRUE.test(key) || FALSE.test(key) || Object.prototype.hasOwnProperty.call(obj, key)) throw GIVE_UP;
      if (this.keys && this.values) {
        const p = `${path}/${key}`;
        this.keys.set(p, it.offset);
        this.values.set(p, it.offset + it.text.length - m[2]!.length);
      }
      obj[key] = this.flowScalar(m[2]!);
    }
    return obj;
  }
}
