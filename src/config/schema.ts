// JSON Schema validation of config files (schemas/*.schema.json, draft 2020-12), with ajv's
// errors turned into messages that say what to fix and point at the offending YAML node.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ConfigError } from './errors.ts';
import { nodeAt, nodePosition, pointerSegments, type Sink, type YamlFile } from './source.ts';
import { editDistance } from '../signature/template.ts';

// ajv-formats is CommonJS with `exports.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export type SchemaName = 'tenant' | 'directory';

function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(`${SCHEMA_DIR}${name}.schema.json`, 'utf8')) as Record<string, unknown>;
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

function lower(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function describe(schema: unknown): string | undefined {
  const d = (schema as { description?: unknown } | undefined)?.description;
  return typeof d === 'string' ? d : undefined;
}

function didYouMean(name: string, options: readonly string[]): string {
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const d = editDistance(name.toLowerCase(), o.toLowerCase());
    if (d < bestD) { bestD = d; best = o; }
  }
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
      return { segments, code: 'missing-key', text: `missing required key '${missing}'${where}${d ? `: ${lower(d)}` : ''}` };
    }
    case 'type':
      return { segments, code: 'wrong-type', text: `${subject} must be ${typeWords(params.type)}, not ${show(e.data)}${desc ? `: ${lower(desc)}` : ''}` };
    case 'enum':
      return {
        segments, code: 'invalid-value',
        text: `${subject} must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}, not ${show(e.data)}`,
      };
    case 'const':
      return { segments, code: 'invalid-value', text: `${subject} must be ${show(params.allowedValue)}, not ${show(e.data)}` };
    case 'pattern':
    case 'format': {
      const what = e.keyword === 'format' ? `a valid ${String(params.format)}` : 'in the expected form';
      return { segments, code: 'invalid-value', text: `${subject} ${show(e.data)} is not ${what}${desc ? `: ${lower(desc)}` : ''}` };
    }
    case 'minItems':
      return { segments, code: 'invalid-value', text: `${subject} must list at least ${String(params.limit)} item(s)${desc ? `: ${lower(desc)}` : ''}` };
    case 'minLength':
      return { segments, code: 'invalid-value', text: `${subject} must not be empty${desc ? `: ${lower(desc)}` : ''}` };
    case 'maxLength':
      return { segments, code: 'invalid-value', text: `${subject} is longer than ${String(params.limit)} characters` };
    case 'uniqueItems': {
      const list = e.data as unknown[];
      const j = Number(params.j);
      const i = Number(params.i);
      return {
        segments: [...segments, String(i)], code: 'duplicate-item',
        text: `${subject} lists ${show(list[i])} twice (items ${j + 1} and ${i + 1}); remove the duplicate`,
      };
    }
    case 'anyOf':
      if (e.schemaPath.endsWith('/rule/anyOf')) {
        return { segments, code: 'rule-without-template', text: `rule ${path} names no template: give at least one of signature, banner, disclaimer` };
      }
      return { segments, code: 'invalid-value', text: `${subject} is not valid${desc ? `: ${lower(desc)}` : ''}` };
    case 'oneOf':
      return { segments, code: 'invalid-value', text: `${subject} is not valid (got ${show(e.data)})${desc ? `: ${lower(desc)}` : ''}` };
    case 'not': {
      if (e.schemaPath.includes('/directory/allOf/0/')) {
        return { segments, keyOf: 'snapshot', code: 'invalid-value', text: "directory.snapshot is only for source: graph; remove it (source: file uses directory.file)" };
      }
      if (e.schemaPath.includes('/directory/allOf/1/')) {
        return { segments, keyOf: 'file', code: 'invalid-value', text: "directory.file is only for source: file; remove it (source: graph uses directory.snapshot)" };
      }
      return { segments, code: 'invalid-value', text: `${subject} is not valid${desc ? `: ${lower(desc)}` : ''}` };
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
  // Collapse the branch errors of a failed oneOf/anyOf into the one message about it.
  const umbrellas = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const kept = errors.filter((e) =>
    !umbrellas.some((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`) && e.instancePath.startsWith(u.instancePath)),
  );
  const seen = new Set<string>();
  for (const e of kept) {
    const m = messageFor(e, pointerSegments(e.instancePath));
    if (!m) continue;
    const node = nodeAt(y, m.segments, m.keyOf);
    const p = nodePosition(y, node);
    const id = `${p.line}:${p.col}:${m.text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    sink.add(new ConfigError(y.file, p.line, p.col, m.code, m.text));
  }
  return false;
}
