// How Exchange Online decides whether a transport rule applies to a message, for the rules the
// fake stores (records as Get-TransportRule shows them), so tests can ask "would Exchange route
// this message to the relay?" of the rule sigops really wrote. Semantics as documented for
// New-TransportRule (https://learn.microsoft.com/powershell/module/exchangepowershell/new-transportrule):
//
// * conditions are all required, exceptions are alternatives (any one excludes the message);
// * SenderAddressLocation (default Header) says where the sender conditions look: the From
//   header, the envelope sender (MAIL FROM), or either. Only From, FromAddressContainsWords,
//   FromAddressMatchesPatterns, FromMemberOf and SenderDomainIs (and their exceptions) can
//   look at the envelope; FromScope is not among them, so it reads the From header here;
// * the null sender (MAIL FROM:<>) has no address, so no envelope sender condition matches it;
// * SenderDomainIs: the cmdlet reference says it matches domains and subdomains, the predicates
//   page says the domain; `senderDomainMatch` picks one so a test can hold under both;
// * header conditions look at every field of that name; HeaderContainsWords matches whole words,
//   HeaderMatchesPatterns regular expressions, both ignoring case (a guess for the patterns);
// * MessageTypeMatches takes one type, as Exchange classifies the message.
//
// A rule with a condition this file does not know is refused rather than guessed at.
import type { FakeRecord, MESSAGE_TYPES } from './exchange-online.ts';

export type MessageType = (typeof MESSAGE_TYPES)[number];

/** A message as Exchange's transport sees it when the rules run. */
export interface TransportMessage {
  /** The envelope sender (MAIL FROM); '' is the null sender. */
  readonly mailFrom: string;
  /** The From header's address; undefined when there is none. */
  readonly from?: string;
  readonly recipients: readonly string[];
  /** Header fields as [name, unfolded value], in order. */
  readonly headers: readonly (readonly [string, string])[];
  /** What Exchange classifies the message as (MessageTypeMatches), if anything. */
  readonly type?: MessageType;
  /** Bytes, message and attachments. */
  readonly size: number;
}

/** What the rule conditions know about the tenant. */
export interface Organisation {
  /** Accepted domains (Authoritative/InternalRelay): inside the organisation. */
  readonly acceptedDomains: readonly string[];
  /** Group (Name or address, any case) → member addresses, for FromMemberOf. */
  readonly groups?: Readonly<Record<string, readonly string[]>>;
}

export interface EvaluationOptions {
  /** How SenderDomainIs compares a sender's domain: equal only, or equal or a subdomain. */
  readonly senderDomainMatch: 'exact' | 'subdomain';
}

export class UnsupportedPredicateError extends Error {}

/** Rule properties that are not conditions or exceptions (identity, actions, bookkeeping). */
const NOT_PREDICATES = new Set(
  [
    'Name', 'Identity', 'Guid', 'WhenCreated', 'WhenChanged', 'OrganizationId', 'Priority', 'Mode', 'State', 'Comments',
    'StopRuleProcessing', 'RouteMessageOutboundConnector', 'SetHeaderName', 'SetHeaderValue', 'SenderAddressLocation',
  ].map((k) => k.toLowerCase()),
);
const KNOWN_PREDICATES = new Set(
  [
    'FromScope', 'SentToScope', 'FromMemberOf', 'SenderDomainIs', 'SentTo',
    'ExceptIfHeaderContainsMessageHeader', 'ExceptIfHeaderContainsWords',
    'ExceptIfHeaderMatchesMessageHeader', 'ExceptIfHeaderMatchesPatterns',
    'ExceptIfMessageTypeMatches', 'ExceptIfMessageSizeOver',
  ].map((k) => k.toLowerCase()),
);

function prop(rule: FakeRecord, name: string): unknown {
  const lower = name.toLowerCase();
  const key = Object.keys(rule).find((k) => k.toLowerCase() === lower);
  const v = key === undefined ? undefined : rule[key];
  if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return undefined;
  return v;
}

function list(v: unknown): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  const d = at < 0 ? '' : address.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
  return d === '' ? undefined : d;
}

function inDomains(domain: string, domains: readonly string[], subdomains: boolean): boolean {
  return domains.some((d) => {
    const x = d.toLowerCase().replace(/\.$/, '');
    return domain === x || (subdomains && domain.endsWith(`.${x}`));
  });
}

/** "150 MB (157,286,400 bytes)" or 157286400 → bytes. */
function bytesOf(v: unknown): number {
  if (typeof v === 'number') return v;
  const exact = /\(([\d,]+) bytes\)/.exec(String(v));
  if (exact?.[1]) return Number(exact[1].replaceAll(',', ''));
  throw new UnsupportedPredicateError(`ExceptIfMessageSizeOver ${String(v)}: not in Exchange's echo format`);
}

function headerValues(message: TransportMessage, name: string): string[] {
  const n = name.toLowerCase();
  return message.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
}

/** The sender addresses the sender conditions look at, per SenderAddressLocation. */
function senderAddresses(rule: FakeRecord, message: TransportMessage): string[] {
  const where = String(prop(rule, 'SenderAddressLocation') ?? 'Header').toLowerCase();
  const header = message.from !== undefined && message.from !== '' ? [message.from] : [];
  const envelope = message.mailFrom !== '' ? [message.mailFrom] : [];
  if (where === 'envelope') return envelope;
  if (where === 'headerorenvelope') return [...header, ...envelope];
  return header;
}

function inOrganisation(address: string | undefined, org: Organisation): boolean {
  const d = address === undefined ? undefined : domainOf(address);
  return d !== undefined && inDomains(d, org.acceptedDomains, false);
}

/** Whether every condition of the rule holds (exceptions not considered). */
function conditionsHold(rule: FakeRecord, message: TransportMessage, org: Organisation, options: EvaluationOptions): boolean {
  const fromScope = prop(rule, 'FromScope');
  if (fromScope !== undefined) {
    const inside = inOrganisation(message.from, org);
    if (String(fromScope).toLowerCase() === 'inorganization' ? !inside : inside) return false;
  }
  const sentToScope = prop(rule, 'SentToScope');
  if (sentToScope !== undefined) {
    const wantInside = String(sentToScope).toLowerCase() === 'inorganization';
    if (!message.recipients.some((r) => inOrganisation(r, org) === wantInside)) return false;
  }
  const sentTo = list(prop(rule, 'SentTo')).map((x) => x.toLowerCase());
  if (sentTo.length > 0 && !message.recipients.some((r) => sentTo.includes(r.toLowerCase()))) return false;
  const senders = senderAddresses(rule, message).map((a) => a.toLowerCase());
  const groups = list(prop(rule, 'FromMemberOf'));
  if (groups.length > 0) {
    const members = new Set(
      groups.flatMap((g) => Object.entries(org.groups ?? {}).filter(([k]) => k.toLowerCase() === g.toLowerCase()).flatMap(([, m]) => m.map((x) => x.toLowerCase()))),
    );
    if (!senders.some((s) => members.has(s))) return false;
  }
  const senderDomains = list(prop(rule, 'SenderDomainIs'));
  if (senderDomains.length > 0) {
    const subdomains = options.senderDomainMatch === 'subdomain';
    if (!senders.some((s) => { const d = domainOf(s); return d !== undefined && inDomains(d, senderDomains, subdomains); })) return false;
  }
  return true;
}

/** Whether any exception excludes the message. */
function excepted(rule: FakeRecord, message: TransportMessage): boolean {
  const containsHeader = prop(rule, 'ExceptIfHeaderContainsMessageHeader');
  const words = list(prop(rule, 'ExceptIfHeaderContainsWords'));
  if (containsHeader !== undefined && words.length > 0) {
    const wordRes = words.map((w) => new RegExp(`(^|\\W)${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\W|$)`, 'i'));
    if (headerValues(message, String(containsHeader)).some((v) => wordRes.some((re) => re.test(v)))) return true;
  }
  const matchesHeader = prop(rule, 'ExceptIfHeaderMatchesMessageHeader');
  const patterns = list(prop(rule, 'ExceptIfHeaderMatchesPatterns'));
  if (matchesHeader !== undefined && patterns.length > 0) {
    const res = patterns.map((p) => new RegExp(p, 'i'));
    if (headerValues(message, String(matchesHeader)).some((v) => res.some((re) => re.test(v.trim())))) return true;
  }
  const type = prop(rule, 'ExceptIfMessageTypeMatches');
  if (type !== undefined && message.type !== undefined && String(type).toLowerCase() === message.type.toLowerCase()) return true;
  const size = prop(rule, 'ExceptIfMessageSizeOver');
  if (size !== undefined && message.size > bytesOf(size)) return true;
  return false;
}

/** Whether the rule applies to the message (enabled, conditions hold, no exception). */
export function ruleApplies(rule: FakeRecord, message: TransportMessage, org: Organisation, options: EvaluationOptions): boolean {
  for (const key of Object.keys(rule)) {
    const k = key.toLowerCase();
    if (NOT_PREDICATES.has(k) || KNOWN_PREDICATES.has(k) || prop(rule, key) === undefined) continue;
    throw new UnsupportedPredicateError(`the rule evaluator does not know ${key}; teach it before relying on it`);
  }
  if (String(prop(rule, 'State') ?? 'Enabled').toLowerCase() === 'disabled') return false;
  return conditionsHold(rule, message, org, options) && !excepted(rule, message);
}

/**
 * The outbound connector the rules route the message to: rules in priority order; an enforced
 * rule that applies and routes decides (it stops rule processing in sigops' case).
 */
export function routedConnector(rules: readonly FakeRecord[], message: TransportMessage, org: Organisation, options: EvaluationOptions): string | undefined {
  const sorted = [...rules].sort((a, b) => Number(a.Priority ?? 0) - Number(b.Priority ?? 0));
  for (const rule of sorted) {
    if (!ruleApplies(rule, message, org, options)) continue;
    if (String(prop(rule, 'Mode') ?? 'Enforce').toLowerCase() !== 'enforce') continue;
    const connector = prop(rule, 'RouteMessageOutboundConnector');
    if (connector !== undefined) return String(connector);
    if (prop(rule, 'StopRuleProcessing') === true) return undefined;
  }
  return undefined;
}
