// What the action needs from the rest of sigops, as a port: github-action/src/main.ts plugs in
// the real modules (services.ts), so the GitHub flow itself only knows GitHub.
import type { SyncResult } from '../directory/index.ts';
import type { ErrorSummary } from '../errors/index.ts';
import type { ConfigRepo, Tenant } from '../model/index.ts';
import type { ApplyReport, Plan } from '../plan/types.ts';
import type { Policy } from '../policy/types.ts';
import type { Diagnostic } from './report.ts';

export type LoadResult =
  | { readonly ok: true; readonly config: ConfigRepo; readonly warnings: readonly Diagnostic[] }
  | { readonly ok: false; readonly errors: readonly Diagnostic[]; readonly warnings: readonly Diagnostic[] };

export interface ApplyOutcome {
  /** The plan apply executed (for names in the report). */
  readonly plan?: Plan;
  readonly report: ApplyReport;
}

export interface SigopsServices {
  loadConfig(root: string): Promise<LoadResult>;
  compilePolicy(config: ConfigRepo): Policy;
  plan(config: ConfigRepo, options: { prune: boolean }): Promise<Plan>;
  renderPlan(plan: Plan, format: 'markdown' | 'text'): string;
  renderApplyReport(report: ApplyReport, format: 'markdown' | 'text'): string;
  /** Plans, refuses when `checksum` is given and differs, applies, re-plans. */
  apply(config: ConfigRepo, options: { prune: boolean; force: boolean; checksum?: string }): Promise<ApplyOutcome>;
  /** GitHub annotations (`::error file=…,line=…,col=…::`) of config diagnostics, paths relative to `cwd`. */
  annotateDiagnostics(
    errors: readonly Diagnostic[],
    warnings: readonly Diagnostic[],
    paths: { root: string; cwd: string },
  ): string;
  /**
   * Refreshes a `directory.source: graph` tenant's snapshot in the config checkout from
   * Microsoft Graph (`sigops directory sync`): written only when it changed, validated.
   */
  syncDirectory(config: ConfigRepo, tenant: Tenant): Promise<SyncResult>;
  /** Name, `code`, message and advice of any error the services throw; the action decides on `code`. */
  describeError(err: unknown): ErrorSummary;
}
