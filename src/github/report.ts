// Markdown for the plan comment and the job summary. The comment starts with the hidden marker
// that finds it again and, when the plan is usable for apply, a hidden checksum marker that the
// apply on merge reads back.
import type { ApplyReport, Plan, TenantPlan } from '../plan/types.ts';
import { PLAN_MARKER, checksumMarker } from './comment.ts';
import { codeBlock, inline } from './markdown.ts';
import type { RulePreview } from './preview.ts';
import { renderPreviews } from './preview.ts';

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly code: string;
}

export interface ReportHeader {
  /** Commit the run is for. */
  readonly sha?: string;
  readonly runUrl?: string;
}

export function headerLine(h: ReportHeader): string {
  const bits: string[] = [];
  if (h.sha) bits.push(`commit \`${h.sha.slice(0, 7)}\``);
  if (h.runUrl) bits.push(`[run log](${h.runUrl})`);
  return bits.length ? `<sub>${bits.join(' · ')}</sub>\n` : '';
}

/** `file:line:col` as shown to people, repository-relative. */
export type PathMapper = (configFile: string) => string;

export function renderDiagnostics(title: string, list: readonly Diagnostic[], path: PathMapper): string {
  if (list.length === 0) return '';
  const rows = list.map(
    (d) => `| \`${path(d.file)}:${d.line}:${d.col}\` | ${inline(d.message)} | \`${d.code}\` |`,
  );
  return [`**${title}**`, '', '| Where | Problem | Code |', '|---|---|---|', ...rows, ''].join('\n');
}

export function invalidConfigReport(
  errors: readonly Diagnostic[],
  warnings: readonly Diagnostic[],
  path: PathMapper,
  h: ReportHeader,
  marker = true,
): string {
  return [
    ...(marker ? [PLAN_MARKER] : []),
    '### ❌ sigops: the configuration is invalid',
    headerLine(h),
    `${errors.length} error${errors.length === 1 ? '' : 's'}: nothing is planned or applied until the configuration is valid. ` +
      'The errors are also annotated on the changed lines.',
    '',
    renderDiagnostics('Errors', errors, path),
    renderDiagnostics('Warnings', warnings, path),
  ].join('\n');
}

export function planHasChanges(plan: Plan): boolean {
  return plan.tenants.some((t) => t.changes.length > 0);
}

export function planErrors(plan: Plan): TenantPlan[] {
  return plan.tenants.filter((t) => t.error !== undefined || t.conflicts.length > 0);
}

export interface PlanReportInput {
  readonly plan: Plan;
  /** The plan module's markdown: per-tenant table, folded per-tenant diffs, checksum. */
  readonly details: string;
  readonly previews: readonly RulePreview[];
  readonly warnings?: string;
  readonly header: ReportHeader;
  /** Notes shown under the title (e.g. why previews are missing). */
  readonly notes?: readonly string[];
}

/**
 * The plan comment (and the PR's job summary): the plan as the plan module renders it in
 * markdown (per-tenant summary, folded details, checksum) and the signature previews. A plan that
 * apply may use carries the hidden checksum marker; one with failed tenants does not.
 */
export function planReport(input: PlanReportInput, marker = true): string {
  const { plan } = input;
  const usable = planErrors(plan).length === 0;
  const lines: string[] = [];
  if (marker) lines.push(PLAN_MARKER);
  if (marker && usable) lines.push(checksumMarker(plan.checksum));
  lines.push(input.details.trim(), '', headerLine(input.header));
  for (const n of input.notes ?? []) lines.push(`> ${n}`, '');
  lines.push(
    usable
      ? `Merging applies exactly this plan (checksum \`${plan.checksum.slice(0, 12)}\`); apply refuses it if the repository or Exchange moved since.`
      : '> [!CAUTION]\n> Some tenants could not be planned: this plan has no usable checksum. Fix the errors and push again.',
    '',
  );
  if (plan.safety.needsForce) {
    lines.push(
      '> [!WARNING]\n> This plan changes existing objects in more tenants than the safety limit: the apply after merging ' +
        'refuses it unless the apply step sets `force: true` for that run.',
      '',
    );
  }
  if (input.warnings) lines.push(input.warnings);
  const previews = renderPreviews(input.previews);
  if (previews) lines.push(previews);
  return lines.join('\n');
}

export function planFailedReport(message: string, advice: string | undefined, h: ReportHeader, extra = ''): string {
  return [
    PLAN_MARKER,
    '### ❌ sigops plan failed',
    headerLine(h),
    codeBlock(message, 'text'),
    advice ? `\n${advice}\n` : '',
    extra,
  ].join('\n');
}

export function driftReport(plan: Plan, details: string, h: ReportHeader): string {
  const bad = planErrors(plan);
  const drifted = plan.tenants.filter((t) => t.changes.length > 0);
  const title = bad.length
    ? '### ❌ sigops drift check: some tenants could not be planned'
    : drifted.length
      ? `### ⚠️ sigops drift check: live Exchange differs from the repository in ${drifted.length} tenant${drifted.length === 1 ? '' : 's'}`
      : '### ✅ sigops drift check: Exchange matches the repository';
  const advice = drifted.length
    ? "Someone changed sigops's connectors or transport rule outside the repository, or an apply did not finish. " +
      'Run the apply workflow (workflow_dispatch) to put Exchange back as the repository says, or change the repository to keep the live values.\n'
    : '';
  return [title, headerLine(h), advice, ...failoverLines(plan), details.trim(), ''].join('\n');
}

/** Tenants whose rule `sigops failover` holds disabled: mail flows unsigned there, say it first. */
export function failoverHeld(plan: Plan): string[] {
  return plan.tenants.filter((t) => t.failover?.state === 'disabled').map((t) => t.slug);
}

function failoverLines(plan: Plan): string[] {
  const held = failoverHeld(plan);
  if (held.length === 0) return [];
  return [
    `> 🛑 **Failover** holds the routing rule disabled in ${held.map((s) => `\`${s}\``).join(', ')} (the relay fleet was unhealthy): ` +
      'mail flows unsigned; apply keeps the rule disabled and `sigops failover` re-enables it once the fleet is healthy again.',
    '',
  ];
}

export function applyReport(report: ApplyReport, details: string, checksumNote: string, h: ReportHeader): string {
  const failed = report.tenants.filter((t) => t.outcome === 'failed');
  const title = failed.length
    ? `### ❌ sigops apply failed in ${failed.length} tenant${failed.length === 1 ? '' : 's'}`
    : report.converged
      ? '### ✅ sigops apply: Exchange matches the repository'
      : '### ⚠️ sigops apply did not converge';
  return [title, headerLine(h), `Plan checksum \`${report.checksum}\`: ${checksumNote}.`, '', details.trim(), ''].join('\n');
}
