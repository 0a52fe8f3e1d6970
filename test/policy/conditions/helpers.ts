// Helpers for the rule-condition tests: a tenant, a check context that records what a check
// reports, and per-message facts, so that each condition module can be tested on its own.
import type { DirectoryUser, Rule, Tenant } from '../../../src/model/index.ts';
import {
  CONDITIONS, type ConditionRegistry, type DirectoryFacts, type MessageFacts, type Position, type RuleCheckContext, type SentAs,
} from '../../../src/policy/conditions/index.ts';
import type { MessageType } from '../../../src/policy/message-type.ts';

export const TENANT: Tenant = {
  slug: 'contoso',
  id: '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10',
  name: 'Contoso Ltd',
  domains: ['contoso.com', 'contoso.co.uk'],
  enabled: true,
  exchange: {
    smartHost: 'relay.example.net', certificateDomain: 'c.relay.example.net',
    deliverTo: { host: 'contoso-com.mail.protection.outlook.com', port: 25 }, senders: { kind: 'all' }, internal: true,
  },
  directory: { source: 'file', file: 'directory/contoso.yaml' },
  rules: [],
  file: 'tenants/contoso.yaml',
};

/** What a check reported: `severity code @path[:key]: message`, positions replaced by the path asked for. */
export interface Reported {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly at: string;
  readonly message: string;
}

export interface CheckOptions {
  readonly tenant?: Partial<Tenant>;
  readonly exchange?: Partial<Tenant['exchange']>;
  readonly directory?: DirectoryFacts;
  readonly attributes?: readonly string[];
  readonly conditions?: ConditionRegistry;
}

/**
 * Reads `when` (as the YAML gives it) through the registry and runs its checks. Positions
 * are fake: each one encodes the path it was asked for, so tests can assert where a problem
 * points without a YAML file.
 */
export function checkWhen(rawWhen: Record<string, unknown>, options: CheckOptions = {}): Reported[] {
  const conditions = options.conditions ?? CONDITIONS;
  const paths: string[] = [];
  const at = (path: readonly (string | number)[], keyOf?: string): Position => {
    paths.push(`${path.join('.')}${keyOf !== undefined ? `:${keyOf}` : ''}`);
    return { line: paths.length, col: 1 };
  };
  const reported: Reported[] = [];
  const report = (severity: Reported['severity']) => (p: Position, code: string, message: string) => {
    reported.push({ severity, code, at: paths[p.line - 1]!, message });
  };
  const tenant: Tenant = { ...TENANT, ...options.tenant, exchange: { ...TENANT.exchange, ...options.exchange } };
  const rule: Rule = { name: 'r', when: conditions.read(rawWhen), signature: 'sig', placement: 'reply', position: { file: tenant.file, line: 1, col: 1 } };
  const context: RuleCheckContext = {
    tenant, rule,
    directory: options.directory,
    attributes: new Set(options.attributes ?? ['email', 'displayName', 'department', 'jobTitle']),
    at,
    error: report('error'),
    warn: report('warning'),
  };
  conditions.check(rule, rawWhen, context);
  return reported;
}

export const ALICE: DirectoryUser = {
  email: 'alice@contoso.com',
  displayName: 'Alice',
  memberOf: ['sales@contoso.com'],
  attributes: { email: 'alice@contoso.com', displayName: 'Alice', department: 'Sales' },
};

/** Facts about a message; recipients are classified against TENANT's domains. */
export function message(facts: {
  sender?: string; user?: DirectoryUser; from?: { address: string; name?: string }; recipients?: string[]; now?: string;
  messageType?: MessageType; sentAs?: SentAs;
} = {}): MessageFacts {
  const recipients = facts.recipients ?? ['x@example.org'];
  const domains = recipients.map((r) => r.slice(r.lastIndexOf('@') + 1).toLowerCase());
  const internal = domains.filter((d) => TENANT.domains.includes(d)).length;
  return {
    sender: facts.sender ?? 'alice@contoso.com',
    user: facts.user,
    sentAs: facts.sentAs ?? 'self',
    messageType: facts.messageType ?? 'new',
    from: facts.from,
    recipientDomains: domains,
    allInternal: domains.length > 0 && internal === domains.length,
    anyExternal: internal < domains.length,
    now: Date.parse(facts.now ?? '2026-06-15T12:00:00Z'),
  };
}

/** Whether `when` (as the YAML gives it) matches the message, through the registry. */
export function matches(rawWhen: Record<string, unknown>, m: MessageFacts, conditions: ConditionRegistry = CONDITIONS): boolean {
  return conditions.compile(conditions.read(rawWhen)).every((t) => t(m));
}
