// Licensing usage: distinct senders signed per tenant per month. The relay appends one line per
// (tenant, sender) the first time it signs for that sender in a month; no content, no recipients.
// File: <state>/usage-YYYY-MM.tsv, lines "tenantId<TAB>tenantSlug<TAB>sender".
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export function monthOf(d: Date): string {
  return d.toISOString().slice(0, 7);
}

export function usageFile(stateDir: string, month: string): string {
  return join(stateDir, `usage-${month}.tsv`);
}

const clean = (s: string) => s.replace(/[\t\r\n]/g, '');

export class UsageRecorder {
  private month = '';
  /** The current month's bounds (ms): the month string is made only when the month changes. */
  private monthFrom = 0;
  private monthUntil = 0;
  private seen = new Set<string>();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly stateDir: string) {}

  private roll(month: string): void {
    if (month === this.month) return;
    this.month = month;
    this.seen = new Set();
    const file = usageFile(this.stateDir, month);
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const [id, , sender] = line.split('\t');
        if (id && sender) this.seen.add(`${id}\t${sender}`);
      }
    }
  }

  /** Records a signed message's sender; cheap when already recorded this month. */
  record(tenantId: string, tenantSlug: string, sender: string, when?: Date): Promise<void> {
    const ms = when ? when.getTime() : Date.now();
    if (ms < this.monthFrom || ms >= this.monthUntil) {
      const d = new Date(ms);
      this.monthFrom = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      this.monthUntil = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      this.roll(monthOf(d));
    }
    const month = this.month;
    const key = `${clean(tenantId)}\t${clean(sender.toLowerCase())}`;
    if (this.seen.has(key)) return this.writing;
    this.seen.add(key);
    const line = `${clean(tenantId)}\t${clean(tenantSlug)}\t${clean(sender.toLowerCase())}\n`;
    const file = usageFile(this.stateDir, month);
    this.writing = this.writing
      .then(() => mkdir(this.stateDir, { recursive: true }))
      .then(() => appendFile(file, line))
      .catch(() => {
        this.seen.delete(key); // retried on the next message from that sender
      });
    return this.writing;
  }

  flush(): Promise<void> {
    return this.writing;
  }
}

export interface TenantUsage {
  readonly tenantId: string;
  readonly tenant: string; // slug last recorded
  readonly senders: number;
}

export interface UsageReport {
  readonly month: string;
  readonly tenants: readonly TenantUsage[];
  readonly total: number;
}

export async function readUsage(stateDir: string, month: string): Promise<UsageReport> {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Error(`--month must be YYYY-MM, got "${month}"`);
  const file = usageFile(stateDir, month);
  const byTenant = new Map<string, { slug: string; senders: Set<string> }>();
  if (existsSync(file)) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const [id, slug, sender] = line.split('\t');
      if (!id || !sender) continue;
      const entry = byTenant.get(id) ?? { slug: slug ?? '', senders: new Set<string>() };
      entry.slug = slug || entry.slug;
      entry.senders.add(sender);
      byTenant.set(id, entry);
    }
  }
  const tenants = [...byTenant.entries()]
    .map(([tenantId, e]) => ({ tenantId, tenant: e.slug, senders: e.senders.size }))
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.tenantId.localeCompare(b.tenantId));
  return { month, tenants, total: tenants.reduce((n, t) => n + t.senders, 0) };
}

export function renderUsage(report: UsageReport, format: 'text' | 'csv' | 'json'): string {
  if (format === 'json') return JSON.stringify(report, null, 2) + '\n';
  if (format === 'csv') {
    return ['month,tenant,tenant_id,senders', ...report.tenants.map((t) => `${report.month},${t.tenant},${t.tenantId},${t.senders}`)].join('\n') + '\n';
  }
  if (report.tenants.length === 0) return `No signed mail recorded for ${report.month}.\n`;
  const w = Math.max(6, ...report.tenants.map((t) => t.tenant.length));
  const lines = [`Distinct senders signed in ${report.month}`, '', `${'tenant'.padEnd(w)}  senders  tenant id`];
  for (const t of report.tenants) lines.push(`${t.tenant.padEnd(w)}  ${String(t.senders).padStart(7)}  ${t.tenantId}`);
  lines.push('', `${'total'.padEnd(w)}  ${String(report.total).padStart(7)}`);
  return lines.join('\n') + '\n';
}
