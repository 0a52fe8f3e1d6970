// Checking and compiling Handlebars templates. Checking walks the AST so that every refusal
// (unknown helper, prototype access, partials, unescaped output in HTML) is reported with the
// template's own line and column, before anything runs.
import Handlebars from 'handlebars';
import { BUILTIN_HELPERS, HELPERS, HELPER_NAMES, REFUSED_HELPERS } from './helpers.ts';
import { SigopsError } from '../errors/index.ts';

type Node = hbs.AST.Node;

export type TemplateKind = 'html' | 'text';

export interface TemplateProblem {
  readonly line: number; // 1-based
  readonly col: number; // 1-based
  readonly code: string;
  readonly message: string;
}

/** A `user.<attribute>` reference found in a template, for "no user has this attribute" warnings. */
export interface TemplateVariable {
  readonly attribute: string;
  readonly line: number;
  readonly col: number;
}

/** An `{{image "name"}}` call: which image, and where. */
export interface TemplateImageReference {
  readonly name: string;
  readonly line: number;
  readonly col: number;
}

export interface TemplateAnalysis {
  readonly problems: readonly TemplateProblem[];
  /** Every `{{image "…"}}` call, in order (the config loader checks that each image exists). */
  readonly images?: readonly TemplateImageReference[];
  /** Worth fixing, not fatal (e.g. a URL attribute filled without the `url` helper). */
  readonly warnings: readonly TemplateProblem[];
  readonly userAttributes: readonly TemplateVariable[];
  /** `user` itself is used (`{{#with user}}`, `{{#each user}}`): any attribute may be read. */
  readonly wholeUser?: boolean;
  readonly ast?: hbs.AST.Program;
}

/** Names that would reach into JavaScript object internals. */
const FORBIDDEN_SEGMENTS = new Set([
  '__proto__', 'constructor', 'prototype', '__defineGetter__', '__defineSetter__',
  '__lookupGetter__', '__lookupSetter__', 'hasOwnProperty', 'isPrototypeOf',
  'propertyIsEnumerable', 'toString', 'valueOf', 'toLocaleString',
]);

const ROOT_VARIABLES = 'user.<attribute>, tenant.name, tenant.domains and now';
const TENANT_FIELDS = new Set(['name', 'domains']);

/** One isolated Handlebars environment: only our helpers, no lookup/log, no partials. */
const env = Handlebars.create();
env.unregisterHelper('lookup');
env.unregisterHelper('log');
for (const [name, [fn]] of Object.entries(HELPERS)) env.registerHelper(name, fn as Handlebars.HelperDelegate);

const KNOWN_HELPERS: Record<string, boolean> = Object.fromEntries(
  [...BUILTIN_HELPERS, ...Object.keys(HELPERS)].map((n) => [n, true]),
);
// Handlebars' own defaults that must not count as known.
for (const name of Object.keys(REFUSED_HELPERS)) KNOWN_HELPERS[name] = false;

export const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = Object.freeze({
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
  allowCallsToHelperMissing: false,
  helpers: undefined,
  partials: {},
}) as Handlebars.RuntimeOptions;

function isHelperName(name: string): boolean {
  return BUILTIN_HELPERS.has(name) || Object.prototype.hasOwnProperty.call(HELPERS, name);
}

/**
 * The candidate closest to a misspelt name (case-insensitive, transpositions count once), or
 * undefined when nothing is close enough to be a plausible typo.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = name.length <= 4 ? 1 : name.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = v;
    }
  }
  return rows[a.length]![b.length]!;
}

function tooDeep(): TemplateAnalysis {
  return {
    problems: [{ line: 1, col: 1, code: 'template-too-complex', message: 'the template nests blocks too deeply to be checked; flatten it' }],
    warnings: [],
    userAttributes: [],
  };
}

/** The innermost {{#block}} left open at the end of a template, by a plain scan. */
function unclosedBlock(source: string): { name: string; line: number; col: number } | undefined {
  const stack: { name: string; index: number }[] = [];
  const re = /\{\{~?\s*([#^/])\s*([^\s}~]+)/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m[1] === '/') {
      const i = stack.map((b) => b.name).lastIndexOf(m[2]!);
      if (i >= 0) stack.length = i;
    } else if (m[1] === '#' && !m[2]!.startsWith('>') && !m[2]!.startsWith('*')) {
      stack.push({ name: m[2]!, index: m.index });
    }
  }
  const open = stack.at(-1);
  if (!open) return undefined;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < open.index; i++) if (source.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
  return { name: open.name, line, col: open.index - lineStart + 1 };
}

function describeParseError(message: string): string {
  const got = /got '([A-Z_]+)'/.exec(message)?.[1];
  if (got === 'EOF') return 'template syntax error: the template ends inside an open block; close every {{#…}} with its {{/…}}';
  if (got === 'INVALID') return 'template syntax error: unexpected character in a {{…}} expression; check its braces and quotes';
  if (got !== undefined) return `template syntax error: unexpected ${got.toLowerCase().replace(/_/g, ' ')}; check the {{…}} expression here`;
  const first = message.split('\n')[0] ?? message;
  return `template syntax error: ${first.replace(/ - \d+:\d+$/, '')}`;
}

/** Block and sub-expression nesting allowed: real templates need a handful. */
export const MAX_TEMPLATE_NESTING = 64;

/**
 * Where a template nests {{#blocks}} or (sub expressions) deeper than the limit, found by a
 * plain scan before Handlebars parses anything: its parser and compiler recurse per level,
 * and recursion that reaches the stack limit can abort the process.
 */
function excessiveNesting(source: string): { line: number; col: number } | undefined {
  let depth = 0;
  const re = /\{\{~?\s*([#^/]?)([^}]*)\}\}/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m[1] === '/') depth = Math.max(0, depth - 1);
    else if (m[1] === '#' || m[1] === '^') depth++;
    let parens = 0;
    let max = 0;
    for (const c of m[2]!) {
      if (c === '(') max = Math.max(max, ++parens);
      else if (c === ')') parens--;
    }
    if (depth + max > MAX_TEMPLATE_NESTING) {
      let line = 1;
      let lineStart = 0;
      for (let i = 0; i < m.index; i++) if (source.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
      return { line, col: m.index - lineStart + 1 };
    }
  }
  return undefined;
}

/** Parses and checks a template source. Never throws. */
export function analyzeTemplate(source: string, kind: TemplateKind): TemplateAnalysis {
  const deep = excessiveNesting(source);
  if (deep) {
    return {
      problems: [{ ...deep, code: 'template-too-complex', message: `the template nests blocks or (sub expressions) more than ${MAX_TEMPLATE_NESTING} levels deep here; flatten it` }],
      warnings: [],
      userAttributes: [],
    };
  }
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch (err) {
    if (err instanceof RangeError) return tooDeep();
    const message = err instanceof Error ? err.message : String(err);
    const e = err as { lineNumber?: number; column?: number };
    let line = e.lineNumber ?? 1;
    let col = (e.column ?? 0) + 1;
    const loc = (Handlebars as unknown as { Parser?: { lexer?: { yylloc?: { first_line: number; first_column: number } } } })
      .Parser?.lexer?.yylloc;
    if (e.lineNumber === undefined && loc && message.startsWith('Parse error')) {
      line = loc.first_line;
      col = loc.first_column + 1;
    }
    const unclosed = /got 'EOF'/.test(message) ? unclosedBlock(source) : undefined;
    if (unclosed) {
      return {
        problems: [{ line: unclosed.line, col: unclosed.col, code: 'template-syntax', message: `template syntax error: {{#${unclosed.name}}} is never closed; add {{/${unclosed.name}}} where the block ends` }],
        userAttributes: [], warnings: [],
      };
    }
    const mismatch = /^(\S+) doesn't match (\S+)/.exec(message);
    if (mismatch) {
      return {
        problems: [{ line, col: col, code: 'template-syntax', message: `template syntax error: {{#${mismatch[1]}}} is closed by {{/${mismatch[2]}}}; close it with {{/${mismatch[1]}}}` }],
        userAttributes: [], warnings: [],
      };
    }
    return { problems: [{ line, col, code: 'template-syntax', message: describeParseError(message) }], userAttributes: [], warnings: [] };
  }

  const problems: TemplateProblem[] = [];
  const warnings: TemplateProblem[] = [];
  const userAttributes: TemplateVariable[] = [];
  const images: TemplateImageReference[] = [];
  let wholeUser = false;
  // The last bit of literal HTML before a mustache: an href/src attribute just opened?
  let urlAttribute = false;
  const at = (node: Node): { line: number; col: number } => ({
    line: node.loc?.start.line ?? 1,
    col: (node.loc?.start.column ?? 0) + 1,
  });
  const problem = (node: Node, code: string, message: string): void => {
    problems.push({ ...at(node), code, message });
  };

  // `scoped` is true inside {{#each}}/{{#with}}, where `this` and relative paths change meaning.
  const checkPath = (p: hbs.AST.PathExpression, scoped: boolean): void => {
    for (const part of p.parts) {
      if (FORBIDDEN_SEGMENTS.has(part)) {
        problem(p, 'template-prototype', `'${p.original}' reaches into object internals ('${part}'); templates may only read user, tenant and now values`);
        return;
      }
    }
    if (p.data) return; // @root, @index, @first …
    const [head, second] = p.parts;
    if (head === undefined) return; // `this`
    if (scoped || p.depth > 0) return;
    if (head === 'user') {
      if (second !== undefined) userAttributes.push({ attribute: second, ...at(p) });
      else wholeUser = true;
      return;
    }
    if (head === 'tenant') {
      if (second !== undefined && !TENANT_FIELDS.has(second)) {
        problem(p, 'template-unknown-variable', `unknown variable '${p.original}': tenant has only name and domains`);
      }
      return;
    }
    if (head === 'now') return;
    const hint = isHelperName(head) ? '' : head in { displayName: 1, jobTitle: 1, department: 1, phone: 1, email: 1 } ? ` (did you mean user.${head}?)` : '';
    problem(p, 'template-unknown-variable', `unknown variable '${p.original}'${hint}: templates see ${ROOT_VARIABLES}`);
  };

  const checkCall = (
    node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression,
    scoped: boolean,
    isBlock: boolean,
  ): void => {
    const path = node.path;
    const params = node.params;
    const hashPairs = node.hash?.pairs ?? [];
    if (path.type !== 'PathExpression') {
      problem(node, 'template-syntax', 'a literal cannot be called as a helper');
      return;
    }
    const p = path as hbs.AST.PathExpression;
    const simple = !p.data && p.depth === 0 && p.parts.length === 1;
    const name = p.parts[0] ?? '';
    const isCall = simple && (params.length > 0 || hashPairs.length > 0 || isBlock || node.type === 'SubExpression' || isHelperName(name) || name in REFUSED_HELPERS);
    if (isCall) {
      if (Object.prototype.hasOwnProperty.call(REFUSED_HELPERS, name)) {
        problem(p, 'template-helper-refused', REFUSED_HELPERS[name]!);
      } else if (!isHelperName(name)) {
        const guess = closestName(name, HELPER_NAMES);
        problem(p, 'template-unknown-helper', `unknown helper '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}; available helpers: ${HELPER_NAMES.join(', ')}`);
      } else {
        const spec = HELPERS[name];
        if (spec && (params.length < spec[1] || params.length > spec[2])) {
          const want = spec[1] === spec[2] ? `${spec[1]}` : `${spec[1]} to ${spec[2]}`;
          problem(p, 'template-helper-arity', `helper '${name}' takes ${want} argument(s), got ${params.length}`);
        }
        if (BUILTIN_HELPERS.has(name) && name !== 'each' && name !== 'with' && params.length !== 1) {
          problem(p, 'template-helper-arity', `'${name}' takes exactly one argument, got ${params.length}`);
        }
        if ((name === 'each' || name === 'with') && params.length !== 1) {
          problem(p, 'template-helper-arity', `'${name}' takes exactly one argument, got ${params.length}`);
        }
        if (!isBlock && BUILTIN_HELPERS.has(name)) {
          problem(p, 'template-syntax', `'${name}' is a block helper: write {{#${name} …}}…{{/${name}}}`);
        }
        if (isBlock && !BUILTIN_HELPERS.has(name)) {
          problem(p, 'template-syntax', `'${name}' is not a block helper: write {{${name} …}} without '#'`);
        }
      }
      if (hashPairs.length > 0) problem(node, 'template-syntax', `helper '${name}' takes no key=value arguments`);
      if (name === 'image' && params.length === 1) {
        // the image must be known when the config is validated: a literal name, not a value
        const param = params[0]!;
        if (param.type === 'StringLiteral') images.push({ name: (param as hbs.AST.StringLiteral).value, ...at(param) });
        else problem(param, 'template-image-name', `'image' takes the file name of an image under images/ in quotes, e.g. {{image "logo.png"}}`);
      }
    } else if (isBlock) {
      problem(p, 'template-syntax', `sections on a value ({{#${p.original}}}) are not supported: use {{#if ${p.original}}}…{{/if}}`);
      checkPath(p, scoped);
    } else {
      checkPath(p, scoped);
    }
    if (isCall && !isHelperName(name)) return; // one error per unknown helper is enough
    for (const param of params) walkExpr(param, scoped);
    for (const pair of hashPairs) walkExpr(pair.value, scoped);
  };

  const walkExpr = (e: hbs.AST.Expression, scoped: boolean): void => {
    if (e.type === 'PathExpression') checkPath(e as hbs.AST.PathExpression, scoped);
    else if (e.type === 'SubExpression') checkCall(e as hbs.AST.SubExpression, scoped, false);
  };

  const walkProgram = (prog: hbs.AST.Program | undefined, scoped: boolean): void => {
    if (!prog) return;
    if (prog.blockParams && prog.blockParams.length > 0) scoped = true;
    for (const stmt of prog.body) walkStatement(stmt, scoped);
  };

  const walkStatement = (stmt: hbs.AST.Statement, scoped: boolean): void => {
    switch (stmt.type) {
      case 'MustacheStatement': {
        const m = stmt as hbs.AST.MustacheStatement;
        if (urlAttribute && kind === 'html') {
          const p = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression) : undefined;
          const helper = p && p.parts.length === 1 && m.params.length > 0 ? p.parts[0] : undefined;
          if (p && p.parts[0] === 'user' && helper === undefined) {
            warnings.push({ ...at(m), code: 'template-unsafe-url',
              message: `'${p.original}' starts a link or image address: write {{url ${p.original}}} so that javascript: or data: values are dropped` });
          }
        }
        urlAttribute = false;
        if (!m.escaped && kind === 'html') {
          problem(m, 'template-unescaped', 'triple braces {{{…}}} or {{&…}} output values without HTML escaping; use {{…}}');
        }
        checkCall(m, scoped, false);
        return;
      }
      case 'BlockStatement': {
        const b = stmt as hbs.AST.BlockStatement;
        urlAttribute = false;
        checkCall(b, scoped, true);
        const name = b.path.type === 'PathExpression' ? (b.path as hbs.AST.PathExpression).parts[0] : undefined;
        const inner = scoped || name === 'each' || name === 'with';
        walkProgram(b.program, inner);
        walkProgram(b.inverse, scoped);
        return;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement':
        problem(stmt, 'template-partial', 'partials ({{> …}}) are not supported; put the shared markup in the template itself');
        return;
      case 'Decorator':
      case 'DecoratorBlock':
        problem(stmt, 'template-decorator', 'decorators ({{* …}}) are not supported');
        return;
      case 'ContentStatement':
        urlAttribute = /\s(?:href|src)\s*=\s*["']?$/i.test((stmt as hbs.AST.ContentStatement).value);
        return;
      default:
        return; // comments
    }
  };

  try {
    walkProgram(ast, false);
  } catch (err) {
    if (err instanceof RangeError) return tooDeep();
    throw err;
  }
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  return { problems, warnings, userAttributes, ...(images.length > 0 ? { images } : {}), ...(wholeUser ? { wholeUser } : {}), ...(problems.length === 0 ? { ast } : {}) };
}

/** What a compiled template is given. */
export interface TemplateContext {
  readonly user: Readonly<Record<string, unknown>>;
  readonly tenant: { readonly name: string; readonly domains: readonly string[] };
  /** The policy passes the start of the current UTC day: output changes at most daily. */
  readonly now: Date;
  /** What `{{image "name"}}` becomes (absent: an empty string). */
  readonly images?: (name: string) => string;
}

export type RenderFunction = (context: TemplateContext) => string;

/** A template that does not pass analyzeTemplate; `problems` has each position and message. */
export class TemplateCompileError extends SigopsError {
  override readonly name = 'TemplateCompileError';
  constructor(readonly problems: readonly TemplateProblem[]) {
    super(problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('; '), {
      code: 'template-invalid',
      advice: 'Fix the template at the line:column given, then run `sigops validate` to check it.',
    });
  }
}

/**
 * Compiles a checked template into a render function. HTML templates escape every value;
 * text templates do not. Throws TemplateCompileError when the template does not pass
 * analyzeTemplate.
 */
export function compileTemplate(source: string, kind: TemplateKind): RenderFunction {
  const analysis = analyzeTemplate(source, kind);
  if (!analysis.ast || analysis.problems.length > 0) throw new TemplateCompileError(analysis.problems);
  const fn = env.compile(analysis.ast as unknown as string, {
    knownHelpers: KNOWN_HELPERS,
    knownHelpersOnly: true,
    noEscape: kind === 'text',
    strict: false,
    preventIndent: true,
    data: true,
  } as CompileOptions);
  const render: RenderFunction = (context) => fn(context, RUNTIME_OPTIONS);
  // Handlebars compiles lazily on first call: force it now, off the hot path.
  render({ user: Object.create(null) as Record<string, unknown>, tenant: { name: '', domains: [] }, now: new Date(0) });
  return render;
}

type CompileOptions = Parameters<typeof Handlebars.compile>[1];
