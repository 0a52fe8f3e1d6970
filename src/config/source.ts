// Reading config files safely: size limit before reading, strict UTF-8, YAML parsed with node
// positions kept, duplicate keys and alias bombs refused. Problems become diagnostics; nothing
// here throws on bad input.
import { readFile, stat } from 'node:fs/promises';
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import { ConfigError, ConfigWarning, type ConfigProblem } from './errors.ts';
import { fastParseYaml, type FastYaml } from './fastyaml.ts';

/** Tenant files and templates. */
export const MAX_FILE_BYTES = 1024 * 1024;
/**
 * Directory files and Graph snapshots grow with the number of users: about 200 bytes each with
 * a few attributes, 500 with every attribute and a few groups, so a Graph snapshot of 100,000
 * users is about 50 MB (bench/results/directory.md). The limit leaves room for twice that.
 */
export const MAX_DIRECTORY_BYTES = 128 * 1024 * 1024;
/** Aliases allowed per document: plenty for real configs, far too few for a "billion laughs". */
export const MAX_ALIAS_COUNT = 100;
/**
 * Nesting allowed per document. Config files need fewer than ten levels; parsers recurse per
 * level, and a recursion that reaches the stack limit can take the whole process down (V8
 * aborts when it must compile a regular expression there), so deeper input is refused
 * before any parser sees it.
 */
export const MAX_NESTING = 64;

/**
 * Where a YAML text nests deeper than `limit` (block indentation levels, `- ` / `? ` items
 * opened on one line, and open flow brackets together), or undefined. A conservative
 * estimate: quotes and comments are skipped, and it may over-count odd but valid layouts.
 */
export function excessiveNesting(text: string, limit = MAX_NESTING): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let lineStart = 0;
  while (lineStart < text.length) {
    let end = text.indexOf('\n', lineStart);
    if (end === -1) end = text.length;
    let i = lineStart;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const indent = i - lineStart;
    if (i < end && text[i] !== '#' && text[i] !== '\r') {
      if (flow === 0) {
        while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
        indents.push(indent);
      }
      let items = 0;
      while (i + 1 < end && (text[i] === '-' || text[i] === '?' || text[i] === ':') && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        items++;
        if (indents.length + items + flow > limit) return i;
        i += 2;
        while (i < end && text.charCodeAt(i) === 32) i++;
      }
      if (indents.length + items + flow > limit) return i;
      let quote = '';
      for (; i < end; i++) {
        const c = text[i];
        if (quote) {
          if (c === quote) quote = '';
          else if (c === '\\' && quote === '"') i++;
        } else if (c === '"' || c === "'") {
          quote = c;
        } else if (c === '#' && (i === lineStart || /\s/.test(text[i - 1]!))) {
          break;
        } else if (c === '[' || c === '{') {
          flow++;
          if (indents.length + items + flow > limit) return i;
        } else if ((c === ']' || c === '}') && flow > 0) {
          flow--;
        }
      }
    }
    lineStart = end + 1;
  }
  return undefined;
}

export interface Sink {
  add(problem: ConfigProblem): void;
}

/** Line and column (1-based) of a character offset, without a LineCounter (for non-YAML files). */
export function positionOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    if (i + need >= n) return i;
    let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Reads a text file within a size limit as strict UTF-8 (a BOM is dropped). */
export async function readTextFile(abs: string, file: string, limit: number, sink: Sink): Promise<string | undefined> {
  try {
    const st = await stat(abs);
    if (st.size > limit) {
      sink.add(new ConfigError(file, 1, 1, 'file-too-large',
        `file is ${st.size} bytes, over the limit of ${limit} bytes (${Math.round(limit / 1024 / 1024)} MB); split it or remove what is not needed`));
      return undefined;
    }
    const buf = await readFile(abs);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      const bad = firstInvalidUtf8(buf);
      const where = bad >= 0 ? positionOf(buf.subarray(0, bad).toString('latin1'), bad) : { line: 1, col: 1 };
      const utf16 = buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff));
      sink.add(new ConfigError(file, where.line, where.col, 'not-utf8',
        utf16
          ? 'file is UTF-16; save it as UTF-8'
          : `file is not valid UTF-8 (byte 0x${(buf[bad] ?? 0).toString(16).padStart(2, '0')} at offset ${bad}); save it as UTF-8`));
      return undefined;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    sink.add(new ConfigError(file, 1, 1, 'file-unreadable', `cannot read file: ${code ?? (err as Error).message}`));
    return undefined;
  }
}

/** A parsed YAML file: its data as plain JS, and where each value and key was written. */
export interface YamlFile {
  readonly file: string;
  readonly data: unknown;
  /**
   * 1-based line and column of the value at a path of keys and indexes (of the key named
   * `keyOf` inside it, when given). Falls back to the deepest part of the path that exists.
   */
  positionAt(segments: readonly (string | number)[], keyOf?: string): { line: number; col: number };
}

class FullYamlFile implements YamlFile {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    readonly lineCounter: LineCounter,
    readonly data: unknown,
  ) {}

  positionAt(segments: readonly (string | number)[], keyOf?: string): { line: number; col: number } {
    const offset = nodeAt(this.doc, segments, keyOf)?.range?.[0] ?? this.doc.contents?.range?.[0];
    return offset === undefined ? { line: 1, col: 1 } : this.lineCounter.linePos(offset);
  }
}

/** Read by the fast reader; positions from its offsets, or from a full parse made on demand. */
class FastYamlFile implements YamlFile {
  private lineStarts: number[] | undefined;
  private full: FullYamlFile | undefined;

  constructor(
    readonly file: string,
    private readonly text: string,
    private readonly fast: FastYaml,
  ) {}

  get data(): unknown {
    return this.fast.data;
  }

  positionAt(segments: readonly (string | number)[], keyOf?: string): { line: number; col: number } {
    if (!this.fast.values || !this.fast.keys) return this.fullFile().positionAt(segments, keyOf);
    const parts = segments.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1'));
    if (keyOf !== undefined) {
      const k = this.fast.keys.get(`${parts.map((x) => `/${x}`).join('')}/${keyOf.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      if (k !== undefined) return this.linePos(k);
    }
    for (let n = parts.length; n >= 0; n--) {
      const v = this.fast.values.get(parts.slice(0, n).map((x) => `/${x}`).join(''));
      if (v !== undefined) return this.linePos(v);
    }
    return { line: 1, col: 1 };
  }

  private fullFile(): FullYamlFile {
    if (!this.full) {
      const lineCounter = new LineCounter();
      const doc = parseDocument(this.text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
      this.full = new FullYamlFile(this.file, doc, lineCounter, this.fast.data);
    }
    return this.full;
  }

  private linePos(offset: number): { line: number; col: number } {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }
}

export interface ParseOptions {
  /** Record positions while reading (tenant files, where every rule keeps its position). */
  readonly positions: boolean;
}

/** Parses YAML text; returns undefined (after reporting) when it has errors. */
export function parseYaml(text: string, file: string, sink: Sink, options: ParseOptions = { positions: true }): YamlFile | undefined {
  const deep = excessiveNesting(text);
  if (deep !== undefined) {
    const p = positionOf(text, deep);
    sink.add(new ConfigError(file, p.line, p.col, 'yaml-too-deep',
      `YAML nests more than ${MAX_NESTING} levels deep here; config files need far fewer — flatten the structure`));
    return undefined;
  }
  const fast = fastParseYaml(text, options.positions);
  if (fast) return new FastYamlFile(file, text, fast);
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (err) {
    sink.add(new ConfigError(file, 1, 1, 'yaml-syntax', `YAML cannot be parsed: ${(err as Error).message}`));
    return undefined;
  }
  const pos = (offset: number) => lineCounter.linePos(offset);
  let failed = false;
  for (const e of doc.errors) {
    failed = true;
    const p = pos(e.pos[0]);
    if (e.code === 'MULTIPLE_DOCS') {
      sink.add(new ConfigError(file, p.line, p.col, 'yaml-syntax', 'the file holds more than one YAML document (a second ---); keep one document per file'));
    } else if (e.code === 'DUPLICATE_KEY') {
      const key = keyAt(text, e.pos[0]);
      sink.add(new ConfigError(file, p.line, p.col, 'duplicate-key',
        `duplicate key${key ? ` '${key}'` : ''}: a key may appear only once in a mapping; remove or merge the repeated one`));
    } else {
      const msg = e.message.replace(/ at line \d+, column \d+[\s\S]*$/, '').trim();
      sink.add(new ConfigError(file, p.line, p.col, 'yaml-syntax', `YAML syntax error: ${msg} (${e.code})`));
    }
  }
  for (const w of doc.warnings) {
    const p = pos(w.pos[0]);
    sink.add(new ConfigWarning(file, p.line, p.col, 'yaml-warning', w.message.replace(/ at line \d+, column \d+[\s\S]*$/, '').trim()));
  }
  if (failed) return undefined;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    let where = { line: 1, col: 1 };
    visit(doc, {
      Alias(_key, node) {
        if (node.range) where = pos(node.range[0]);
        return visit.BREAK;
      },
    });
    const isAliasBomb = err instanceof ReferenceError || /alias/i.test((err as Error).message);
    sink.add(new ConfigError(file, where.line, where.col, isAliasBomb ? 'yaml-alias-limit' : 'yaml-syntax',
      isAliasBomb
        ? `YAML aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias uses); write the values out instead of using anchors (&) and aliases (*)`
        : `YAML cannot be read: ${(err as Error).message}`));
    return undefined;
  }
  return new FullYamlFile(file, doc, lineCounter, data);
}

function keyAt(text: string, start: number): string | undefined {
  const m = /^(?:"([^"\n]*)"|'([^'\n]*)'|([^:\n#]+?))\s*:/.exec(text.slice(start, start + 200));
  const key = m?.[1] ?? m?.[2] ?? m?.[3];
  return key && key.length > 0 ? key : undefined;
}

/** Splits a JSON pointer (ajv instancePath) into segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * The YAML node at a path of keys and indexes. `keyOf` returns the key node of the last
 * segment instead of its value (to point at an unknown key). Falls back to the deepest node
 * that exists.
 */
export function nodeAt(doc: Document.Parsed, segments: readonly (string | number)[], keyOf?: string): Node | undefined {
  let node: unknown = doc.contents;
  for (const seg of segments) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyString(p.key) === String(seg));
      if (!pair) return node as Node;
      node = pair.value ?? pair.key;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) return node as Node;
      node = item;
    } else {
      return (node ?? undefined) as Node | undefined;
    }
  }
  if (keyOf !== undefined) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyString(p.key) === keyOf);
      if (pair && pair.key) return pair.key as Node;
    }
  }
  return (node ?? undefined) as Node | undefined;
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

