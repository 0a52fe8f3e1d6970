// The `choose` callback for offline signing (`sigops sign`): envelope from options or, by
// default, from the headers; the tenant is the one owning the sender's address. The relay has
// its own (it also checks the tenant id header and the connection); both end in choiceFor().
import { senderDomain } from '../model/index.ts';
import { SigopsError } from '../errors/index.ts';
import type { Policy, TenantPolicy } from '../policy/types.ts';
import { choiceFor, decisionFor } from './choice.ts';
import { parseAddressList, parseMailbox } from './headers.ts';
import { headerFacts } from './message-facts.ts';
import type { ChooseFn, MessageHeaders, SigningChoice } from './types.ts';

export interface OfflineEnvelope {
  sender?: string;
  recipients?: readonly string[];
  now?: Date;
}

/** No tenant of the config owns the message's sender (or there is no sender at all). */
export class NoTenantError extends SigopsError {
  override readonly name = 'NoTenantError';

  constructor(
    readonly sender: string | undefined,
    readonly domain: string | undefined,
    readonly knownDomains: readonly string[],
  ) {
    super(
      sender === undefined
        ? 'no sender: the message has no From header and --from was not given'
        : `no tenant owns the domain ${domain ?? '?'} of ${sender}; known domains: ${knownDomains.join(', ') || '(none)'}`,
      {
        code: 'no-tenant',
        advice: 'Give --from with an address in a domain of a configured tenant, or add the domain to a tenant (domains: in tenants/<slug>.yaml).',
      },
    );
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
    const tenant = sender !== undefined ? policy.tenantForSender(sender) : undefined;
    if (!tenant) throw new NoTenantError(sender, sender !== undefined ? senderDomain(sender) : undefined, policy.tenants.flatMap((t) => t.tenant.domains));
    state.tenant = tenant;
    const choice = choiceFor(decisionFor(tenant, { sender: sender!, ...headerFacts(headers), recipients, now: envelope.now ?? new Date() }));
    state.choice = choice;
    return choice;
  };
}
