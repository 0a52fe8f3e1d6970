// The doctor's report for people (text, grouped per tenant, every check listed with its
// outcome and each finding with what to fix) and for tools (JSON).
import { allFindings, findingCounts, type CheckId, type DoctorReport } from './types.ts';

export type DoctorFormat = 'text' | 'json';

const LABELS: Readonly<Record<CheckId, string>> = {
  'app-permission': 'app permission',
  'exchange-role': 'exchange role',
  'accepted-domains': 'accepted domains',
  'smart-host-dns': 'smart host DNS',
  'smart-host-tls': 'smart host TLS',
  'client-certificate': 'client certificate',
  'sent-items-scope': 'sent items scope',
};
const WIDTH = Math.max(...Object.values(LABELS).map((l) => l.length));

export function renderDoctorReport(report: DoctorReport, format: DoctorFormat = 'text'): string {
  if (format === 'json') {
    const counts = findingCounts(report);
    return `${JSON.stringify({ ...report, findings: allFindings(report), ...counts }, null, 2)}\n`;
  }
  const out: string[] = [];
  for (const t of report.tenants) {
    out.push(`${t.slug} (${t.name}, ${t.tenantId})`);
    for (const c of t.checks) {
      const label = LABELS[c.check].padEnd(WIDTH);
      if (c.status !== 'failed') {
        out.push(`  ${c.status === 'passed' ? 'ok   ' : 'skip '} ${label}  ${c.summary}`);
        continue;
      }
      c.findings.forEach((f, i) => {
        out.push(`  ${f.severity === 'error' ? 'ERROR' : 'WARN '} ${i === 0 ? label : ' '.repeat(WIDTH)}  ${f.message}`);
        out.push(`  ${' '.repeat(5 + WIDTH + 3)}fix: ${f.advice}`);
      });
    }
    out.push('');
  }
  out.push(summaryLine(report));
  return `${out.join('\n')}\n`;
}

export function summaryLine(report: DoctorReport): string {
  const { errors, warnings } = findingCounts(report);
  const n = report.tenants.length;
  const tenants = `${n} tenant${n === 1 ? '' : 's'}`;
  if (errors + warnings === 0) return `Doctor: nothing to fix in ${tenants}.`;
  const affected = report.tenants.filter((t) => t.checks.some((c) => c.findings.length > 0)).length;
  const parts = [`${errors} error${errors === 1 ? '' : 's'}`, `${warnings} warning${warnings === 1 ? '' : 's'}`];
  return `Doctor: ${parts.join(', ')} in ${affected} of ${tenants}.`;
}
