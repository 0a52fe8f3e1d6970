// Config diagnostics: every problem found in a config repository, with the file, line and
// column to fix. Errors make the repository invalid; warnings do not.
import { relative, resolve, sep } from 'node:path';
import { SigopsError } from '../errors/index.ts';

export type Severity = 'error' | 'warning';

/** One problem found while loading a config repository (line and col are 1-based). */
export interface ConfigDiagnostic {
  readonly file: string; // relative to the config root, forward slashes
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly code: string;
}

/**
 * Base class of config problems: a SigopsError with a position; `code` is the diagnostic's
 * stable code. The advice is the fix the check knows, else to edit the file at that position.
 */
export abstract class ConfigProblem extends SigopsError implements ConfigDiagnostic {
  readonly severity: Severity = 'error';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    code: string,
    message: string,
    advice?: string,
  ) {
    super(message, { code, advice: advice ?? `Fix ${file} at line ${line}, column ${col}, then run \`sigops validate\`.` });
  }

  /** `file:line:col: message` */
  override toString(): string {
    return `${this.file}:${this.line}:${this.col}: ${this.message}`;
  }

  toJSON(): ConfigDiagnostic & { severity: Severity } {
    return { file: this.file, line: this.line, col: this.col, code: this.code, message: this.message, severity: this.severity };
  }
}

/** A problem that makes the config repository invalid. */
export class ConfigError extends ConfigProblem {
  override readonly name = 'ConfigError';
  override readonly severity: Severity = 'error';
}

/** A problem worth fixing that does not stop the config from being used. */
export class ConfigWarning extends ConfigProblem {
  override readonly name = 'ConfigWarning';
  override readonly severity: Severity = 'warning';
}

/** Thrown by loadValidConfig when the repository has errors; carries all of them. */
export class ConfigInvalidError extends SigopsError {
  override readonly name = 'ConfigInvalidError';
  constructor(
    readonly root: string,
    readonly errors: readonly ConfigDiagnostic[],
    readonly warnings: readonly ConfigDiagnostic[],
  ) {
    const first = errors[0];
    super(
      `config ${root} is invalid: ${errors.length} error(s)` +
        (first ? `; first: ${first.file}:${first.line}:${first.col}: ${first.message}` : ''),
      {
        code: 'config-invalid',
        advice: `Run \`sigops validate --config ${root}\` and fix the errors it lists (file, line and column of each).`,
      },
    );
  }
}

export function compareDiagnostics(a: ConfigDiagnostic, b: ConfigDiagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.col - b.col || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

export type DiagnosticFormat = 'text' | 'github' | 'json';

export interface FormatOptions {
  /** Absolute path of the config root, to make file paths relative to `cwd` (GitHub annotations need that). */
  readonly root?: string;
  readonly cwd?: string;
}

function displayPath(file: string, options: FormatOptions): string {
  if (!options.root) return file;
  const abs = resolve(options.root, file);
  const rel = relative(options.cwd ?? process.cwd(), abs);
  return (rel === '' ? file : rel).split(sep).join('/');
}

// GitHub workflow commands: data must escape %, CR, LF; properties also ':' and ','.
function ghData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function ghProp(s: string): string {
  return ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * Renders diagnostics for people (text), GitHub Actions annotations (github) or tools (json).
 * Text ends with a summary line; json is one document with errors and warnings.
 */
export function formatDiagnostics(
  errors: readonly ConfigDiagnostic[],
  warnings: readonly ConfigDiagnostic[],
  format: DiagnosticFormat,
  options: FormatOptions = {},
): string {
  if (format === 'json') {
    const strip = (d: ConfigDiagnostic, severity: Severity) => ({
      file: displayPath(d.file, options), line: d.line, col: d.col, code: d.code, severity, message: d.message,
    });
    return (
      JSON.stringify(
        {
          valid: errors.length === 0,
          errors: errors.map((d) => strip(d, 'error')),
          warnings: warnings.map((d) => strip(d, 'warning')),
        },
        null,
        2,
      ) + '\n'
    );
  }
  const all = [
    ...errors.map((d) => ({ d, s: 'error' as const })),
    ...warnings.map((d) => ({ d, s: 'warning' as const })),
  ].sort((a, b) => compareDiagnostics(a.d, b.d));
  let out = '';
  if (format === 'github') {
    for (const { d, s } of all) {
      out += `::${s} file=${ghProp(displayPath(d.file, options))},line=${d.line},col=${d.col},title=${ghProp(`sigops ${d.code}`)}::${ghData(d.message)}\n`;
    }
    return out;
  }
  for (const { d, s } of all) {
    out += `${displayPath(d.file, options)}:${d.line}:${d.col}: ${s}: ${d.message} [${d.code}]\n`;
  }
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  out += errors.length === 0
    ? `config is valid (${plural(warnings.length, 'warning')})\n`
    : `config is invalid: ${plural(errors.length, 'error')}, ${plural(warnings.length, 'warning')}\n`;
  return out;
}
