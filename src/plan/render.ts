// Renderers of plans and apply reports: text (terminal), markdown (pull-request comments,
// per-tenant details folded) and JSON. Each shows the checksum.
import { describeFailoverNote, type ExchangeValue } from '../exchange/index.ts';
import { blockingFindings } from './findings.ts';
import { formatRequestReference } from '../errors/index.ts';
import type { ApplyReport, Change, ChangeAction, Plan, PlanFormat, TenantPlan } from './types.ts';

const SYMBOL: Readonly<Record<ChangeAction, string>> = { create: '+', update: '~', remove: '-', enable: '>', disable: '!' };
const ACTIONS: readonly ChangeAction[] = ['create', 'update', 'remove', 'enable', 'disable'];

export function formatValue(v: ExchangeValue): string {
  if (v === null) return '(none)';
  if (typeof v === 'object') return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function counts(plan: Plan): Record<ChangeAction, number> {
  const c: Record<ChangeAction, number> = { create: 0, update: 0, remove: 0, enable: 0, disable: 0 };
  for (const t of plan.tenants) for (const ch of t.changes) c[ch.action]++;
  return c;
}

export function planSummary(plan: Plan): string {
  const c = counts(plan);
  const parts = [`${c.create} to create`, `${c.update} to update`, `${c.remove} to remove`];
  if (c.disable) parts.push(`${c.disable} to disable`);
  if (c.enable) parts.push(`${c.enable} to enable`);
  const failed = plan.tenants.filter((t) => t.error || t.conflicts.length > 0 || blockingFindings(t).length > 0).length;
  const changed = plan.tenants.filter((t) => t.changes.length > 0).length;
  let s = `${parts.join(', ')} in ${changed} of ${plan.tenants.length} tenant${plan.tenants.length === 1 ? '' : 's'}`;
  if (failed) s += `; ${failed} tenant${failed === 1 ? '' : 's'} could not be planned`;
  return s;
}

function changeLines(change: Change): string[] {
  const head = `${SYMBOL[change.action]} ${change.action} ${change.kind} "${change.name}"`;
  const width = Math.max(0, ...change.fields.map((f) => f.field.length));
  const lines = change.fields.map((f) => {
    const label = f.field.padEnd(width);
    if (change.action === 'create') return `    ${label}  ${formatValue(f.new)}`;
    if (change.action === 'remove') return `    ${label}  ${formatValue(f.old)}`;
    return `    ${label}  ${formatValue(f.old)} → ${formatValue(f.new)}`;
  });
  return [head, ...lines];
}

/** A change as a diff block colours it: added values +, removed values -. */
function diffLines(change: Change): string[] {
  const sign = change.action === 'create' ? '+' : change.action === 'remove' ? '-' : '!';
  const head = `${sign} ${change.action} ${change.kind} "${change.name}"`;
  const width = Math.max(0, ...change.fields.map((f) => f.field.length));
  return [
    head,
    ...change.fields.flatMap((f) => {
      const label = f.field.padEnd(width);
      if (change.action === 'create') return [`+   ${label}  ${formatValue(f.new)}`];
      if (change.action === 'remove') return [`-   ${label}  ${formatValue(f.old)}`];
      return [`-   ${label}  ${formatValue(f.old)}`, `+   ${label}  ${formatValue(f.new)}`];
    }),
  ];
}

function tenantTitle(t: TenantPlan): string {
  return `${t.slug} (${t.tenantName}, ${t.tenantId}${t.cloud ? `, cloud ${t.cloud}` : ''})${t.status === 'removed' ? ' [deleted from the repo: offboarding]' : ''}${
    t.enabled || t.status === 'removed' ? '' : ' [paused]'
  }`;
}

function tenantProblemLines(t: TenantPlan): string[] {
  const out: string[] = [];
  if (t.error) {
    out.push(`error: ${t.error.name}${t.error.code ? ` [${t.error.code}]` : ''}: ${t.error.message}`);
    if (t.error.advice) out.push(`advice: ${t.error.advice}`);
    if (t.error.request) out.push(`request: ${formatRequestReference(t.error.request)} (quote it to Microsoft support)`);
  }
  for (const c of t.conflicts) out.push(`conflict: ${c.message}`);
  for (const f of t.findings ?? []) out.push(`${f.severity}: ${f.message}`, `advice: ${f.advice}`);
  if (t.failover) out.push(`failover: ${describeFailoverNote(t.failover)}`);
  return out;
}

/** Whether anything stops the tenant (warnings alone do not). */
function blocked(t: TenantPlan): boolean {
  return t.error !== undefined || t.conflicts.length > 0 || blockingFindings(t).length > 0;
}

function footerLines(plan: Plan): string[] {
  const out: string[] = [];
  for (const r of plan.pendingPrune) {
    out.push(
      `Tenant "${r.slug}" (${r.tenantId}) was deleted from the repo in ${r.deletedIn.slice(0, 7)}: ` +
        'its Exchange objects are kept; apply with --prune to remove them.',
    );
  }
  if (plan.safety.needsForce) {
    out.push(
      `Safety: existing objects change in ${plan.safety.tenantsChangingExisting.length} tenants ` +
        `(${plan.safety.tenantsChangingExisting.join(', ')}), more than ${plan.safety.limit}: apply needs --force.`,
    );
  }
  for (const n of plan.notices) out.push(`Note: ${n}`);
  return out;
}

export function renderPlanText(plan: Plan): string {
  const out: string[] = [`sigops plan${plan.prune ? ' (with --prune)' : ''}`, ''];
  for (const t of plan.tenants) {
    const problems = tenantProblemLines(t);
    out.push(`${tenantTitle(t)}${t.changes.length === 0 && !blocked(t) ? ': no changes' : ''}`);
    for (const p of problems) out.push(`  ${p}`);
    for (const c of t.changes) out.push(...changeLines(c).map((l) => `  ${l}`));
    out.push('');
  }
  if (plan.tenants.length === 0) out.push('no tenants in scope', '');
  out.push(...footerLines(plan));
  out.push(`Plan: ${planSummary(plan)}.`, `Checksum: ${plan.checksum}`);
  return `${out.join('\n')}\n`;
}

function mdEscape(s: string): string {
  return s.replace(/[\\|<>*_`[\]]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

function tenantCell(t: TenantPlan): string {
  if (t.error) return `❌ ${mdEscape(t.error.name)}`;
  if (t.conflicts.length) return `❌ ${t.conflicts.length} conflict${t.conflicts.length === 1 ? '' : 's'}`;
  const blocking = blockingFindings(t);
  if (blocking.length) return `❌ ${blocking.map((f) => f.code).join(', ')}`;
  const warned = ((t.findings ?? []).length > 0 ? ' ⚠️' : '') + (t.failover?.state === 'disabled' ? ' · 🛑 rule held disabled by failover' : '');
  if (t.changes.length === 0) return `✅ no changes${warned}`;
  return ACTIONS.map((a) => [a, t.changes.filter((c) => c.action === a).length] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} to ${a}`)
    .join(', ') + warned;
}

/** GitHub refuses comments over 65,536 characters; the action adds its own parts around the plan. */
export const DEFAULT_MARKDOWN_LIMIT = 50_000;

export interface RenderOptions {
  /** Markdown only: past this many characters, tenant details are left out (the table stays). */
  readonly maxChars?: number;
}

export function renderPlanMarkdown(plan: Plan, options: RenderOptions = {}): string {
  const limit = options.maxChars ?? DEFAULT_MARKDOWN_LIMIT;
  const head: string[] = [`### sigops plan${plan.prune ? ' (with `--prune`)' : ''}`, '', `**${planSummary(plan)}**`, ''];
  if (plan.tenants.length > 0) {
    head.push('| tenant | id | changes |', '|---|---|---|');
    for (const t of plan.tenants) {
      const state = t.status === 'removed' ? ' (offboarding)' : t.enabled ? '' : ' (paused)';
      head.push(`| \`${t.slug}\` ${mdEscape(t.tenantName)}${state} | \`${t.tenantId}\` | ${tenantCell(t)} |`);
    }
    head.push('');
  }
  const tail: string[] = [];
  for (const f of footerLines(plan)) tail.push(`> ${mdEscape(f)}`, '');
  tail.push(`<sub>checksum <code>${plan.checksum}</code> · apply refuses the plan if this changes</sub>`);

  const details: string[] = [];
  let used = head.join('\n').length + tail.join('\n').length + 200;
  let omitted = 0;
  for (const t of plan.tenants) {
    const problems = tenantProblemLines(t);
    if (t.changes.length === 0 && problems.length === 0) continue;
    const block = [`<details><summary><code>${t.slug}</code>: ${mdEscape(tenantCell(t))}</summary>`, ''];
    for (const p of problems) block.push(`> ${mdEscape(p)}`, '');
    if (t.changes.length > 0) {
      const body = t.changes.flatMap(diffLines).map((l) => l.replaceAll('```', "'''"));
      block.push('```diff', ...body, '```', '');
    }
    block.push('</details>', '');
    const size = block.join('\n').length + 1;
    if (used + size > limit) {
      omitted++;
      continue;
    }
    used += size;
    details.push(...block);
  }
  if (omitted > 0) {
    details.push(`> Details of ${omitted} more tenant${omitted === 1 ? '' : 's'} left out to keep this comment short: see \`sigops plan\` in the workflow log.`, '');
  }
  return `${[...head, ...details, ...tail].join('\n')}\n`;
}

export function renderPlan(plan: Plan, format: PlanFormat = 'text', options: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(plan, null, 2)}\n`;
    case 'markdown':
      return renderPlanMarkdown(plan, options);
    case 'text':
      return renderPlanText(plan);
  }
}

export function renderApplyReport(report: ApplyReport, format: PlanFormat = 'text'): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const md = format === 'markdown';
  const out: string[] = [md ? '### sigops apply' : 'sigops apply', ''];
  for (const t of report.tenants) {
    const icon = t.outcome === 'failed' ? (md ? '❌ ' : '') : md ? '✅ ' : '';
    out.push(`${md ? '- ' : ''}${icon}${md ? `\`${t.slug}\`` : t.slug} (${t.tenantId}): ${t.outcome}`);
    for (const s of t.steps) {
      out.push(`${md ? '  - ' : '  '}${s.outcome.padEnd(md ? 0 : 7)} ${s.change.action} ${s.change.kind} "${s.change.name}"`);
      const indent = md ? '    ' : '      ';
      if (s.error) out.push(`${indent}${s.error.name}: ${s.error.message}${s.error.advice ? ` (${s.error.advice})` : ''}`);
      if (s.error?.request) out.push(`${indent}request: ${formatRequestReference(s.error.request)}`);
      for (const w of s.warnings ?? []) out.push(`${indent}warning from Exchange: ${w}`);
    }
    if (t.error) out.push(`${md ? '  - ' : '  '}error: ${t.error.name}: ${t.error.message}${t.error.advice ? ` (${t.error.advice})` : ''}`);
    if (t.error?.request) out.push(`${md ? '  - ' : '  '}request: ${formatRequestReference(t.error.request)}`);
    for (const r of t.remaining) out.push(`${md ? '  - ' : '  '}still pending: ${r.action} ${r.kind} "${r.name}"`);
  }
  out.push('', `${report.converged ? 'Converged' : 'NOT converged'}: plan ${report.checksum}`);
  return `${out.join('\n')}\n`;
}
