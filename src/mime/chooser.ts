// The `choose` callback for offline signing (`sigops sign`): envelope from options or, by
// default, from the headers; the tenant is the one owning the sender's domain. The relay has
// its own (it also checks the tenant id header and the connection); both end in decide().
import type { Policy, TenantPolicy } from '../policy/types.ts';
import { parseAddressList, parseMailbox } from './headers.ts';
import type { ChooseFn, MessageHeaders, SigningChoice } from './types.ts';

export interface OfflineEnvelope {
  sender?: string;
  recipients?: readonly string[];
  now?: Date;
}

export class NoTenantError extends Error {
  constructor(
    readonly sender: string | undefined,
    readonly domain: string | undefined,
    readonly knownDomains: readonly string[],
  ) {
    super(
      sender === undefined
        ? 'no sender: the message has no From header and --from was not given'
        : `no tenant owns the domain ${domain ?? '?'} of ${sender}; known domains: ${knownDomains.join(', ') || '(none)'}`,
    );
    this.name = 'NoTenantError';
  }
}

export interface ChooserState {
  tenant?: TenantPolicy;
  sender?: string;
  recipients: string[];
  choice?: SigningChoice;
}

/** Builds a ChooseFn over a compiled policy; `state` records what it decided, for reporting. */
export function offlineChooser(policy: Policy, envelope: OfflineEnvelope, state: ChooserState = { recipients: [] }): ChooseFn {
  return (headers: MessageHeaders): SigningChoice => {
    // "Alice <alice@contoso.com>" is accepted on the command line too
    const sender = (envelope.sender !== undefined ? (parseMailbox(envelope.sender)?.address ?? envelope.sender) : headers.from()?.address)?.trim().toLowerCase();
    const recipients =
      envelope.recipients && envelope.recipients.length > 0
        ? envelope.recipients.flatMap((r) => parseAddressList(r)).concat(envelope.recipients.filter((r) => parseAddressList(r).length === 0).map((r) => r.trim().toLowerCase()))
        : ['to', 'cc', 'bcc'].flatMap((h) => headers.getAll(h).flatMap(parseAddressList));
    state.sender = sender;
    state.recipients = recipients;
    const domain = sender?.includes('@') ? sender.slice(sender.lastIndexOf('@') + 1) : undefined;
    const tenant = domain ? policy.tenantForDomain(domain) : undefined;
    if (!tenant) throw new NoTenantError(sender, domain, policy.tenants.flatMap((t) => t.tenant.domains));
    state.tenant = tenant;
    let choice: SigningChoice;
    if (!tenant.tenant.enabled) choice = { kind: 'pass', reason: 'tenant-paused' };
    else {
      const from = headers.from();
      const decision = tenant.decide({ sender: sender!, ...(from ? { from } : {}), recipients, now: envelope.now ?? new Date() });
      choice =
        decision.kind === 'sign'
          ? { kind: 'sign', blocks: decision.blocks, placement: decision.placement, rule: decision.rule }
          : { kind: 'pass', reason: decision.detail ? `${decision.reason}: ${decision.detail}` : decision.reason };
    }
    state.choice = choice;
    return choice;
  };
}
