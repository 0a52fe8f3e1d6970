// Signature previews for the plan comment: for each changed rule, what a sample user of that
// rule would get, rendered by the same compiled policy the relay uses (tenantPolicy.decide).
// The sample is the first directory user the rule actually applies to (rules are ordered, so an
// earlier rule may win for a user matching this one); failing that a made-up sender of the
// tenant's first domain, which only rules without attribute conditions match. The recipient,
// the date and the senders tried first come from the rule's conditions (their sample hooks).
import type { ConfigRepo, Rule, Tenant } from '../model/index.ts';
import { CONDITIONS, type ConditionRegistry } from '../policy/conditions/index.ts';
import type { Policy, RenderedBlocks, SigningRequest } from '../policy/types.ts';
import type { ChangedRule } from './changes.ts';
import { codeBlock, inline } from './markdown.ts';

export interface RulePreview {
  readonly tenant: string;
  readonly tenantName: string;
  readonly rule: string;
  readonly why: string;
  readonly sample?: { readonly email: string; readonly name?: string; readonly fromDirectory: boolean };
  readonly recipient?: string;
  readonly date?: string;
  readonly blocks?: RenderedBlocks;
  /** Why there is no preview. */
  readonly note?: string;
}

/** The made-up message a rule's preview is rendered for, as its conditions want it. */
function sampleFor(rule: Rule, tenant: Tenant, now: Date, conditions: ConditionRegistry): { recipient: string; date: Date; preferredSenders: ReadonlySet<string> } {
  const s = conditions.sample(rule.when, { internalRecipient: false, date: now, preferredSenders: [] });
  const recipient = s.internalRecipient
    ? `colleague@${s.recipientDomain ?? tenant.domains[0] ?? 'example.com'}`
    : `recipient@${s.recipientDomain ?? 'example.net'}`;
  return { recipient, date: s.date, preferredSenders: new Set(s.preferredSenders) };
}

/** `conditions`: the rule conditions the config was loaded with (tests register their own). */
export function previewRules(
  config: ConfigRepo,
  policy: Policy,
  changed: readonly ChangedRule[],
  now: Date,
  conditions: ConditionRegistry = CONDITIONS,
): RulePreview[] {
  const out: RulePreview[] = [];
  for (const c of changed) {
    const tp = policy.tenants.find((t) => t.tenant.slug === c.tenant);
    const rule = tp?.tenant.rules.find((r) => r.name === c.rule);
    if (!tp || !rule) continue;
    const tenant = tp.tenant;
    const base = { tenant: tenant.slug, tenantName: tenant.name, rule: rule.name, why: c.why };
    if (!tenant.enabled) {
      out.push({ ...base, note: 'the tenant is paused (`enabled: false`): its mail is not signed' });
      continue;
    }
    const { recipient, date: when, preferredSenders: listed } = sampleFor(rule, tenant, now, conditions);
    const users = [...(config.directories.get(tenant.slug)?.users.values() ?? [])];
    users.sort((a, b) => Number(listed.has(b.email)) - Number(listed.has(a.email)));
    const candidates: { email: string; name?: string; fromDirectory: boolean }[] = users.map((u) => ({
      email: u.email,
      ...(u.displayName ? { name: u.displayName } : {}),
      fromDirectory: true,
    }));
    const domain = tenant.domains[0];
    if (domain) candidates.push({ email: `sample.user@${domain}`, name: 'Sample User', fromDirectory: false });
    let found: RulePreview | undefined;
    let renderFailure: string | undefined;
    for (const s of candidates) {
      const request: SigningRequest = {
        sender: s.email,
        from: { address: s.email, ...(s.name ? { name: s.name } : {}) },
        recipients: [recipient],
        now: when,
      };
      const d = tp.decide(request);
      if (d.kind === 'sign' && d.rule === rule.name) {
        found = { ...base, sample: s, recipient, date: when.toISOString().slice(0, 10), blocks: d.blocks };
        break;
      }
      if (d.kind === 'skip' && d.reason === 'render-failed') renderFailure ??= d.detail ?? 'rendering failed';
    }
    out.push(
      found ??
        (renderFailure !== undefined
          ? { ...base, note: `rendering failed: ${renderFailure}` }
          : { ...base, note: 'no directory user matches this rule before an earlier rule does, so there is nothing to preview' }),
    );
  }
  return out;
}

export function renderPreviews(previews: readonly RulePreview[]): string {
  if (previews.length === 0) return '';
  const parts = ['### Signature previews', ''];
  for (const p of previews) {
    parts.push(`#### ${inline(p.tenantName)} · rule \`${p.rule}\``, '');
    const who = p.sample
      ? `${p.sample.name ? `${inline(p.sample.name)} ` : ''}\\<${p.sample.email}\\>${p.sample.fromDirectory ? '' : ' (not in the directory)'} → ${p.recipient} on ${p.date}`
      : '';
    parts.push(`_${p.why}_${who ? ` · ${who}` : ''}`, '');
    if (p.blocks) {
      parts.push(codeBlock(p.blocks.text, 'text'), '');
      parts.push('<details><summary>HTML</summary>', '', codeBlock(p.blocks.html, 'html'), '', '</details>', '');
    } else if (p.note) {
      parts.push(`> ${p.note}`, '');
    }
  }
  return parts.join('\n');
}
