// Workflow commands (`::error file=…,line=…,col=…::message`) that GitHub turns into annotations
// on the offending lines of a pull request's diff. Escaping follows @actions/core: the message
// escapes %, CR and LF; property values also escape ':' and ','.
import { posix } from 'node:path';

export type AnnotationLevel = 'error' | 'warning' | 'notice';

export interface Annotation {
  readonly level: AnnotationLevel;
  readonly message: string;
  /** Path relative to the repository root, forward slashes. */
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly title?: string;
}

export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function formatAnnotation(a: Annotation): string {
  const props: string[] = [];
  if (a.file !== undefined) props.push(`file=${escapeProperty(a.file)}`);
  if (a.line !== undefined && a.line > 0) props.push(`line=${a.line}`);
  if (a.col !== undefined && a.col > 0) props.push(`col=${a.col}`);
  if (a.title !== undefined) props.push(`title=${escapeProperty(a.title)}`);
  return `::${a.level}${props.length ? ' ' + props.join(',') : ''}::${escapeData(a.message)}`;
}

/**
 * A config diagnostic's file is relative to the config directory; GitHub wants it relative to
 * the repository root. `configDir` is the `config` input as given (relative to the workspace).
 */
export function repoRelativePath(configDir: string, file: string): string {
  const joined = posix.normalize(posix.join(configDir.replace(/\\/g, '/'), file.replace(/\\/g, '/')));
  return joined.replace(/^\.\//, '');
}
