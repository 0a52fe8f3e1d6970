// Header blocks: parsed for reading, never re-serialised. Edits (only ever on a signed text
// part's own header) replace one field in place and leave every other byte as it was.
import type { Mailbox } from '../policy/types.ts';
import type { MessageHeaders } from './types.ts';

export interface HeaderField {
  /** Lower-case field name. */
  readonly name: string;
  /** Unfolded value, trimmed. */
  readonly value: string;
  /** Byte range of the whole field (including continuation lines and its line ending). */
  readonly start: number;
  readonly end: number;
}

const CR = 13;
const LF = 10;

/** A field whose value is unfolded only when read: most fields of a message (Received, DKIM, ARC) never are. */
class Field implements HeaderField {
  private unfolded: string | undefined;
  constructor(
    readonly name: string,
    readonly start: number,
    readonly end: number,
    private readonly block: Buffer,
    private readonly valueStart: number,
  ) {}

  get value(): string {
    if (this.unfolded === undefined) {
      // the first line as it follows the colon, continuation lines trimmed, joined by a space
      const lines = this.block.toString('utf8', this.valueStart, this.end).split(/\r\n|\r|\n/);
      if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
      let v = lines[0]!.replace(/\r$/, '');
      for (let i = 1; i < lines.length; i++) v += ' ' + lines[i]!.replace(/\r$/, '').trim();
      this.unfolded = v.replace(/[ \t]+/g, ' ').trim();
    }
    return this.unfolded;
  }
}

/**
 * Splits a raw header block (bytes, without the blank separator line) into fields. Lines end at
 * LF (CRLF or bare) and at a bare CR: the relay's way out (nodemailer) sends every bare CR as
 * CRLF, so a field behind one is a field of its own for the next hop, and must be one here,
 * where the tenant checks read the headers.
 */
export function parseHeaderFields(block: Buffer): HeaderField[] {
  const out: HeaderField[] = [];
  let pos = 0;
  let current: { name: string; start: number; valueStart: number } | undefined;
  const close = (end: number): void => {
    if (!current) return;
    out.push(new Field(current.name, current.start, end, block, current.valueStart));
    current = undefined;
  };
  let cr = -2; // the next CR at or after pos, -1 when there is none (searched once, not per line)
  while (pos < block.length) {
    const nl = block.indexOf(LF, pos);
    if (cr !== -1 && cr < pos) cr = block.indexOf(CR, pos);
    let lineEnd: number;
    let contentEnd: number;
    if (cr >= 0 && (nl < 0 || cr < nl - 1)) {
      lineEnd = cr + 1; // a bare CR
      contentEnd = cr;
    } else {
      lineEnd = nl < 0 ? block.length : nl + 1;
      contentEnd = nl < 0 ? block.length : nl;
      if (contentEnd > pos && block[contentEnd - 1] === CR) contentEnd--;
    }
    const first = block[pos];
    if (!((first === 0x20 || first === 0x09) && current)) {
      close(pos);
      const colon = block.indexOf(0x3a, pos);
      if (colon > pos && colon < contentEnd) {
        const rawName = block.toString('utf8', pos, colon).trim();
        if (rawName && !/\s/.test(rawName)) current = { name: rawName.toLowerCase(), start: pos, valueStart: colon + 1 };
      }
      // a line without a colon is kept in the bytes but not as a field
    }
    pos = lineEnd;
  }
  close(block.length);
  return out;
}

export class HeaderBlock implements MessageHeaders {
  constructor(
    readonly fields: readonly HeaderField[],
    readonly truncated = false,
  ) {}

  get(name: string): string | undefined {
    const n = name.toLowerCase();
    return this.fields.find((f) => f.name === n)?.value;
  }

  getAll(name: string): string[] {
    const n = name.toLowerCase();
    return this.fields.filter((f) => f.name === n).map((f) => f.value);
  }

  from(): Mailbox | undefined {
    const v = this.get('from');
    return v === undefined ? undefined : parseMailbox(v);
  }
}

/** The first mailbox of an address header (RFC 5322, forgiving). */
export function parseMailbox(value: string): Mailbox | undefined {
  const angle = /<\s*([^<>\s]+@[^<>\s]+?)\s*>/.exec(value);
  if (angle) {
    let name = value.slice(0, angle.index).trim();
    if (name.startsWith('"') && name.endsWith('"') && name.length >= 2) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
    name = name.trim();
    return name ? { address: angle[1]!.toLowerCase(), name } : { address: angle[1]!.toLowerCase() };
  }
  const bare = /([^\s<>,;:"()]+@[^\s<>,;:"()]+)/.exec(value);
  if (!bare) return undefined;
  const comment = /\(([^()]*)\)/.exec(value)?.[1]?.trim();
  return comment ? { address: bare[1]!.toLowerCase(), name: comment } : { address: bare[1]!.toLowerCase() };
}

/** All addresses of address headers (To, Cc, Bcc), lower-case. Groups and comments tolerated. */
export function parseAddressList(value: string): string[] {
  const out: string[] = [];
  const withoutQuoted = value.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\([^()]*\)/g, '');
  for (const m of withoutQuoted.matchAll(/<\s*([^<>\s]+@[^<>\s]+?)\s*>|([^\s<>,;:"]+@[^\s<>,;:"]+)/g)) {
    out.push((m[1] ?? m[2]!).toLowerCase());
  }
  return out;
}

export interface ContentType {
  readonly type: string; // lower-case, e.g. "text"
  readonly subtype: string; // lower-case, e.g. "plain"
  readonly mime: string; // type/subtype
  readonly params: ReadonlyMap<string, string>; // lower-case names
}

/** Parses a Content-Type / Content-Disposition value: `value; a=b; c="d e"` (RFC 2045/2231, forgiving). */
export function parseStructured(value: string): { value: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const semi = value.indexOf(';');
  const head = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (semi >= 0) {
    const rest = value.slice(semi + 1);
    const re = /\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;]*))\s*;?/gy;
    const continued = new Map<string, string[]>();
    let m: RegExpExecArray | null;
    let guard = 0;
    while (re.lastIndex < rest.length && guard++ < 200) {
      m = re.exec(rest);
      if (!m) {
        const next = rest.indexOf(';', re.lastIndex);
        if (next < 0) break;
        re.lastIndex = next + 1;
        continue;
      }
      const name = m[1]!.toLowerCase();
      const val = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
      const cont = /^(.*?)\*(\d+)\*?$/.exec(name);
      if (cont) {
        const list = continued.get(cont[1]!) ?? [];
        list[Number(cont[2])] = val;
        continued.set(cont[1]!, list);
      } else if (!params.has(name)) {
        params.set(name.replace(/\*$/, ''), name.endsWith('*') ? decode2231(val) : val);
      }
    }
    for (const [name, list] of continued) if (!params.has(name)) params.set(name, list.join(''));
  }
  return { value: head, params };
}

function decode2231(v: string): string {
  const m = /^[^']*'[^']*'(.*)$/.exec(v);
  if (!m) return v;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

export function parseContentType(value: string | undefined, fallback = 'text/plain'): ContentType {
  const parsed = parseStructured(value ?? fallback);
  let mime = parsed.value;
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(mime)) {
    // "multipart" without a subtype and similar damage: keep the type, guess the subtype
    if (/^multipart\b/.test(mime)) mime = 'multipart/mixed';
    else if (/^text\b/.test(mime)) mime = 'text/plain';
    else mime = value === undefined ? fallback : 'application/octet-stream';
  }
  const slash = mime.indexOf('/');
  return { type: mime.slice(0, slash), subtype: mime.slice(slash + 1), mime, params: parsed.params };
}

/**
 * Returns `block` with field `name` set to `value`: the first such field is replaced in
 * place (its original name spelling kept), or a new field is appended at the end.
 */
export function setHeaderField(block: Buffer, name: string, value: string, eol: string): Buffer {
  const fields = parseHeaderFields(block);
  const f = fields.find((x) => x.name === name.toLowerCase());
  if (!f) {
    const needsEol = block.length > 0 && block[block.length - 1] !== LF;
    return Buffer.concat([block, Buffer.from(`${needsEol ? eol : ''}${name}: ${value}${eol}`, 'latin1')]);
  }
  const original = block.toString('latin1', f.start, f.end);
  const spelled = original.slice(0, original.indexOf(':'));
  return Buffer.concat([block.subarray(0, f.start), Buffer.from(`${spelled}: ${value}${eol}`, 'latin1'), block.subarray(f.end)]);
}

/** Content-Type value with its charset parameter set (or added), other parameters kept verbatim. */
export function withCharset(contentType: string, charset: string): string {
  if (/(^|;)\s*charset\s*=/i.test(contentType)) {
    return contentType.replace(/(;\s*charset\s*=\s*)("[^"]*"|[^;\s]*)/i, `$1${charset}`);
  }
  return `${contentType.replace(/\s*;?\s*$/, '')}; charset=${charset}`;
}
