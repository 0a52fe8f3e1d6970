// Signature previews for the plan comment: for each changed rule, what a sample user of that
// rule would get, rendered by the same compiled policy the relay uses (tenantPolicy.decide).
// The sample is the first directory user the rule actually applies to (rules are ordered, so an
// earlier rule may win for a user matching this one); failing that a made-up sender of the
// tenant's first domain, which only rules without attribute conditions match. The recipient,
// the date, the senders tried first, the message type (new, reply, forward) and how it is sent
// (as the user, as a shared mailbox, on behalf of one) come from the rule's conditions (their
// sample hooks), and the preview says which type and way it shows.
import type { ConfigRepo, DirectoryUser, Rule, Tenant } from '../model/index.ts';
import { CONDITIONS, type ConditionRegistry, type SentAs } from '../policy/conditions/index.ts';
import type { MessageType, Policy, RenderedBlocks, SigningRequest } from '../policy/types.ts';
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
  /** The message type shown, when the rule asks for one. */
  readonly messageType?: MessageType;
  /** The mailbox the sample sends on behalf of (From), when the rule asks for `sentAs: onBehalf`. */
  readonly onBehalfOf?: string;
  readonly blocks?: RenderedBlocks;
  /** Why there is no preview. */
  readonly note?: string;
}

/** The made-up message a rule's preview is rendered for, as its conditions want it. */
function sampleFor(rule: Rule, tenant: Tenant, now: Date, conditions: ConditionRegistry): {
  recipient: string; date: Date; preferredSenders: ReadonlySet<string>; messageType?: MessageType; sentAs?: SentAs;
} {
  const s = conditions.sample(rule.when, { internalRecipient: false, date: now, preferredSenders: [] });
  const recipient = s.internalRecipient
    ? `colleague@${s.recipientDomain ?? tenant.domains[0] ?? 'example.com'}`
    : `recipient@${s.recipientDomain ?? 'example.net'}`;
  return { recipient, date: s.date, preferredSenders: new Set(s.preferredSenders), messageType: s.messageType, sentAs: s.sentAs };
}

const isMailbox = (u: DirectoryUser): boolean => u.attributes.mailboxType !== undefined && u.attributes.mailboxType.toLowerCase() !== 'user';

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
    const { recipient, date: when, preferredSenders: listed, messageType, sentAs } = sampleFor(rule, tenant, now, conditions);
    const users = [...(config.directories.get(tenant.slug)?.users.values() ?? [])];
    // Sent as a shared mailbox: shared mailboxes first; otherwise people first.
    const rank = (u: DirectoryUser) => Number(listed.has(u.email)) * 2 + Number(isMailbox(u) === (sentAs === 'shared'));
    users.sort((a, b) => rank(b) - rank(a));
    // On behalf: of the first shared mailbox, else of a made-up one (From), the candidate in Sender.
    const principal = sentAs === 'onBehalf'
      ? (() => {
          const m = users.find(isMailbox);
          return m ? { address: m.email, ...(m.displayName ? { name: m.displayName } : {}) } : { address: `shared.mailbox@${tenant.domains[0] ?? 'example.com'}`, name: 'Shared Mailbox' };
        })()
      : undefined;
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
      if (principal && s.email === principal.address) continue;
      const mailbox = { address: s.email, ...(s.name ? { name: s.name } : {}) };
      const request: SigningRequest = {
        sender: s.email,
        from: principal ?? mailbox,
        ...(principal ? { senderHeader: mailbox } : {}),
        recipients: [recipient],
        now: when,
        ...(messageType ? { messageType } : {}),
      };
      const d = tp.decide(request);
      if (d.kind === 'sign' && d.rule === rule.name) {
        found = {
          ...base, sample: s, recipient, date: when.toISOString().slice(0, 10),
          ...(messageType ? { messageType } : {}), ...(principal ? { onBehalfOf: principal.address } : {}), blocks: d.blocks,
        };
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
    const kind = p.messageType === 'reply' ? ', a reply' : p.messageType === 'forward' ? ', a forward' : p.messageType === 'new' ? ', a new message' : '';
    const who = p.sample
      ? `${p.sample.name ? `${inline(p.sample.name)} ` : ''}\\<${p.sample.email}\\>${p.sample.fromDirectory ? '' : ' (not in the directory)'}${p.onBehalfOf ? ` on behalf of \\<${p.onBehalfOf}\\>` : ''} → ${p.recipient} on ${p.date}${kind}`
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
