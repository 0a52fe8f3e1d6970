// The problems found while loading a config repository, collected as the phases of the loader
// find them and handed back sorted by file, line and column. Passed explicitly to each phase.
import { ConfigError, ConfigWarning, compareDiagnostics, type ConfigDiagnostic, type ConfigProblem } from './errors.ts';
import type { Sink } from './source.ts';

export interface At {
  readonly line: number;
  readonly col: number;
}

/** The start of a file, for problems with the file as a whole. */
export const TOP: At = { line: 1, col: 1 };

/** Where the warnings of a phase go: the collector, or nowhere (for a tenant file that fails its schema). */
export interface Warnings {
  warn(file: string, at: At, code: string, message: string): void;
}

export const NO_WARNINGS: Warnings = { warn: () => undefined };

export class Diagnostics implements Sink, Warnings {
  private readonly errorList: ConfigProblem[] = [];
  private readonly warningList: ConfigProblem[] = [];

  add(p: ConfigProblem): void {
    (p.severity === 'error' ? this.errorList : this.warningList).push(p);
  }

  error(file: string, at: At, code: string, message: string): void {
    this.errorList.push(new ConfigError(file, at.line, at.col, code, message));
  }

  warn(file: string, at: At, code: string, message: string): void {
    this.warningList.push(new ConfigWarning(file, at.line, at.col, code, message));
  }

  get hasErrors(): boolean {
    return this.errorList.length > 0;
  }

  errors(): ConfigDiagnostic[] {
    return [...this.errorList].sort(compareDiagnostics);
  }

  warnings(): ConfigDiagnostic[] {
    return [...this.warningList].sort(compareDiagnostics);
  }
}
