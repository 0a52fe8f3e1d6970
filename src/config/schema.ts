// JSON Schema validation of config files (schemas/*.schema.json, draft 2020-12), with ajv's
// errors turned into messages that say what to fix and point at the offending YAML node.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ConfigError } from './errors.ts';
import { pointerSegments, type Sink, type YamlFile } from './source.ts';
import { closestName } from '../signature/template.ts';
// Imported, not read from disk, so the bundled GitHub Action carries them inside its one file.
import tenantSchema from '../../schemas/tenant.schema.json' with { type: 'json' };
import directorySchema from '../../schemas/directory.schema.json' with { type: 'json' };

// ajv-formats is CommonJS with `exports.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

export type SchemaName = 'tenant' | 'directory';

/** The JSON Schemas of schemas/, as data. */
export const SCHEMAS: Readonly<Record<SchemaName, Record<string, unknown>>> = {
  tenant: tenantSchema as Record<string, unknown>,
  directory: directorySchema as Record<string, unknown>,
};

function loadSchema(name: SchemaName): Record<string, unknown> {
  // ajv annotates what it compiles; give it a copy so SCHEMAS stays pristine
  return structuredClone(SCHEMAS[name]);
}

let validators: Record<SchemaName, ValidateFunction> | undefined;

function getValidators(): Record<SchemaName, ValidateFunction> {
  if (!validators) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, allowMatchingProperties: true, allowUnionTypes: true, strict: true, strictRequired: false });
    addFormats(ajv);
    validators = { tenant: ajv.compile(loadSchema('tenant')), directory: ajv.compile(loadSchema('directory')) };
  }
  return validators;
}

/** A readable path for messages: rules[0].when.between.from */
export function displayPath(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

function show(value: unknown): string {
  let s: string;
  if (typeof value === 'string') s = `'${value}'`;
  else if (value === null) s = 'null';
  else if (Array.isArray(value)) s = 'a list';
  else if (typeof value === 'object') s = 'a mapping';
  else s = String(value);
  return s.length > 70 ? `${s.slice(0, 67)}…` : s;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text', object: 'a mapping (key: value)', array: 'a list', boolean: 'true or false',
  number: 'a number', integer: 'a whole number', null: 'null',
};

function typeWords(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_WORDS[String(x)] ?? String(x)).join(' or ');
}

/** First sentence of a schema description, as a hint after a colon. */
function hint(d: string | undefined): string {
  if (!d) return '';
  const first = d.split(/\.(\s|$)/)[0] ?? d;
  return `: ${first}`;
}

function describe(schema: unknown): string | undefined {
  const d = (schema as { description?: unknown } | undefined)?.description;
  return typeof d === 'string' ? d : undefined;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether a oneOf/anyOf branch is meant for this kind of value (by its type or const). */
function branchFits(branch: unknown, data: unknown): boolean {
  const b = branch as { type?: unknown; const?: unknown };
  const t = jsonType(data);
  if ('const' in b) return jsonType(b.const) === t;
  if (b.type === undefined) return true;
  const types = Array.isArray(b.type) ? (b.type as string[]) : [String(b.type)];
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function didYouMean(name: string, options: readonly string[]): string {
  const best = closestName(name, options);
  return best ? ` (did you mean '${best}'?)` : '';
}

interface Message {
  readonly segments: readonly string[];
  readonly keyOf?: string;
  readonly code: string;
  readonly text: string;
}

function messageFor(e: ErrorObject, segments: string[]): Message | undefined {
  const path = displayPath(segments);
  const where = path === '' ? '' : ` in ${path}`;
  const subject = path === '' ? 'the file' : path;
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const desc = describe(parent);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {}).filter((k) => k !== '$schema');
      const isCondition = parent !== undefined && 'patternProperties' in parent && segments.at(-1) === 'when';
      const extra = isCondition ? ' or a directory attribute name (letters, digits, _)' : '';
      return {
        segments, keyOf: key, code: 'unknown-key',
        text: `unknown key '${key}'${where}${didYouMean(key, allowed)}; allowed keys: ${allowed.join(', ')}${extra}`,
      };
    }
    case 'required': {
      const missing = String(params.missingProperty);
      const d = describe((parent?.properties as Record<string, unknown> | undefined)?.[missing]);
      return { segments, code: 'missing-key', text: `missing required key '${missing}'${where}${d ? `${hint(d)}` : ''}` };
    }
    case 'type':
      if (segments.length === 0 && (e.data === null || e.data === undefined)) {
        const required = ((parent?.required as string[] | undefined) ?? []).join(', ');
        return { segments, code: 'empty-file', text: `the file is empty: it needs the keys ${required}` };
      }
      return { segments, code: 'wrong-type', text: `${subject} must be ${typeWords(params.type)}, not ${show(e.data)}${hint(desc)}` };
    case 'enum':
      return {
        segments, code: 'invalid-value',
        text: `${subject} must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}, not ${show(e.data)}`,
      };
    case 'const':
      return { segments, code: 'invalid-value', text: `${subject} must be ${show(params.allowedValue)}, not ${show(e.data)}` };
    case 'pattern':
    case 'format': {
      const formats: Record<string, string> = { email: 'a valid e-mail address', hostname: 'a valid host name', date: 'a valid date (YYYY-MM-DD)', 'date-time': 'a valid ISO 8601 date and time' };
      const what = e.keyword === 'format' ? formats[String(params.format)] ?? `a valid ${String(params.format)}` : 'in the expected form';
      return { segments, code: 'invalid-value', text: `${subject} ${show(e.data)} is not ${what}${hint(desc)}` };
    }
    case 'minItems':
      return { segments, code: 'invalid-value', text: `${subject} must list at least ${Number(params.limit) === 1 ? 'one item' : `${String(params.limit)} items`}${hint(desc)}` };
    case 'minLength':
      return { segments, code: 'invalid-value', text: `${subject} must not be empty${hint(desc)}` };
    case 'maxLength':
      return { segments, code: 'invalid-value', text: `${subject} is longer than ${String(params.limit)} characters` };
    case 'uniqueItems': {
      const list = e.data as unknown[];
      const later = Math.max(Number(params.i), Number(params.j));
      const first = Math.min(Number(params.i), Number(params.j));
      return {
        segments: [...segments, String(later)], code: 'duplicate-item',
        text: `${subject} lists ${show(list[later])} twice (items ${first + 1} and ${later + 1}); remove the duplicate`,
      };
    }
    case 'anyOf':
      if (/^\/rules\/\d+$/.test(e.instancePath) && Array.isArray(parent?.anyOf)) {
        const name = (e.data as { name?: unknown } | undefined)?.name;
        const label = typeof name === 'string' ? `rule '${name}'` : path;
        return { segments, code: 'rule-without-template', text: `${label} names no template: give at least one of signature, banner, disclaimer` };
      }
      if (e.instancePath === '/sentItems') {
        return {
          segments,
          code: 'sent-items-unscoped',
          text: 'sentItems.update needs the Exchange management scope that limits the app\'s Mail.ReadWrite (scope: <name>), or unscoped: true to accept that the app reaches every mailbox (docs/sent-items.md)',
        };
      }
      return { segments, code: 'invalid-value', text: `${subject} is not valid${hint(desc)}` };
    case 'oneOf':
      return { segments, code: 'invalid-value', text: `${subject} is not valid (got ${show(e.data)})${hint(desc)}` };
    case 'not': {
      if (e.schemaPath.includes('/directory/allOf/0/')) {
        return { segments, keyOf: 'snapshot', code: 'invalid-value', text: "directory.snapshot is only for source: graph; remove it (source: file uses directory.file)" };
      }
      if (e.schemaPath.includes('/sentItems/allOf/1/')) {
        return { segments, keyOf: 'unscoped', code: 'invalid-value', text: 'sentItems has both scope and unscoped: true; keep the scope and remove unscoped' };
      }
      if (e.schemaPath.includes('/directory/allOf/1/')) {
        return { segments, keyOf: 'file', code: 'invalid-value', text: "directory.file is only for source: file; remove it (source: graph uses directory.snapshot)" };
      }
      return { segments, code: 'invalid-value', text: `${subject} is not valid${hint(desc)}` };
    }
    case 'if':
    case 'allOf':
      return undefined; // the failing `then` reports the real problem
    default:
      return { segments, code: 'schema', text: `${subject} ${e.message ?? 'is not valid'}` };
  }
}

/** Validates a parsed file against its schema; reports every problem. Returns true when valid. */
export function validateSchema(y: YamlFile, schema: SchemaName, sink: Sink): boolean {
  const validate = getValidators()[schema];
  if (validate(y.data)) return true;
  const errors = validate.errors ?? [];
  // A failed oneOf/anyOf: when exactly one branch is meant for this kind of value (a list
  // where a list is allowed, a mapping where a mapping is), its errors are the useful ones;
  // otherwise one message about the whole alternative.
  const under = (e: ErrorObject, u: ErrorObject, prefix: string) =>
    e.schemaPath.startsWith(prefix) && (e.instancePath === u.instancePath || e.instancePath.startsWith(`${u.instancePath}/`));
  const dropped = new Set<ErrorObject>();
  const branchOf = new Map<ErrorObject, ErrorObject>();
  for (const u of errors) {
    if (u.keyword !== 'oneOf' && u.keyword !== 'anyOf') continue;
    const branches = ((u.parentSchema as Record<string, unknown> | undefined)?.[u.keyword] ?? []) as unknown[];
    const fitting = branches.map((b, i) => (branchFits(b, u.data) ? i : -1)).filter((i) => i >= 0);
    const only = fitting.length === 1 ? fitting[0]! : -1;
    const keep = `${u.schemaPath}/${only}/`;
    const branchErrors = errors.filter((e) => e !== u && under(e, u, `${u.schemaPath}/`));
    const useBranch = only >= 0 && branchErrors.some((e) => under(e, u, keep));
    for (const e of branchErrors) {
      if (useBranch && under(e, u, keep)) branchOf.set(e, u);
      else dropped.add(e);
    }
    if (useBranch) dropped.add(u);
  }
  // An unknown key that looks like a missing required one: report only the unknown key.
  const suggested = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const allowed = Object.keys(((e.parentSchema as Record<string, unknown>)?.properties as Record<string, unknown>) ?? {});
    const m = /'([^']+)'/.exec(didYouMean(String((e.params as Record<string, unknown>).additionalProperty), allowed));
    if (m) suggested.add(`${e.instancePath}|${m[1]}`);
  }
  // A documented attribute matches both `properties` and the custom-attribute pattern: one
  // type error is enough, the one with the attribute's own description.
  const typeAt = new Map<string, ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'type' || dropped.has(e)) continue;
    const other = typeAt.get(e.instancePath);
    if (!other) typeAt.set(e.instancePath, e);
    else if (e.schemaPath.includes('/properties/')) { dropped.add(other); typeAt.set(e.instancePath, e); }
    else dropped.add(e);
  }
  const seen = new Set<string>();
  for (const e of errors) {
    if (dropped.has(e)) continue;
    if (e.keyword === 'required' && suggested.has(`${e.instancePath}|${String((e.params as Record<string, unknown>).missingProperty)}`)) continue;
    let m = messageFor(e, pointerSegments(e.instancePath));
    if (!m) continue;
    const umbrella = branchOf.get(e);
    if (umbrella && (e.keyword === 'const' || e.keyword === 'enum' || e.keyword === 'type') && e.instancePath === umbrella.instancePath) {
      m = { ...m, text: m.text.replace(/:.*$/, '') + hint(describe(umbrella.parentSchema)) };
    }
    const p = y.positionAt(m.segments, m.keyOf);
    const id = `${p.line}:${p.col}:${m.text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    sink.add(new ConfigError(y.file, p.line, p.col, m.code, m.text));
  }
  return false;
}
