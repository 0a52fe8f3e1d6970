// The Exchange Online objects a tenant needs (docs/exchange.md, "What sigops creates"), and how
// live objects read back from Get- cmdlets compare with them. Exchange echoes some values in its
// own shapes ("150 MB (157,286,400 bytes)", "smtp:*;1", "True"): comparison normalises them.
import { routedSenderDomains, type Tenant } from '../model/index.ts';
import type { CmdletParameters, ExchangeRecord, ExchangeValue } from './client.ts';

export type ObjectKind = 'OutboundConnector' | 'InboundConnector' | 'TransportRule';

export const OUTBOUND_CONNECTOR_NAME = 'sigops outbound';
export const INBOUND_CONNECTOR_NAME = 'sigops inbound';
export const TRANSPORT_RULE_NAME = 'sigops route';
export const PROCESSED_HEADER = 'X-Sigops-Processed';
/**
 * RFC 3834's mark of automatic mail (auto-replied, auto-generated, auto-notified; "no" for
 * mail a person sent). Exchange's automatic replies carry it (Auto-Submitted: auto-generated).
 * Such mail is not signed and, when it has the null return path, could not come back.
 */
export const AUTO_SUBMITTED_HEADER = 'Auto-Submitted';
export const AUTO_SUBMITTED_PATTERNS: readonly string[] = ['^auto-'];
/**
 * The relay's largest message (150 MB, DEFAULT_LIMITS in src/relay/server.ts): larger mail is
 * not routed through it at all.
 */
export const MAX_ROUTED_MESSAGE_SIZE = '150MB';

/** Object kinds in creation order (a rule references the outbound connector by name). */
export const CREATE_ORDER: readonly ObjectKind[] = ['OutboundConnector', 'InboundConnector', 'TransportRule'];
/** Removal order: the rule first, so mail is never routed to a connector that is gone. */
export const REMOVE_ORDER: readonly ObjectKind[] = ['TransportRule', 'OutboundConnector', 'InboundConnector'];

export const OBJECT_NAMES: Readonly<Record<ObjectKind, string>> = {
  OutboundConnector: OUTBOUND_CONNECTOR_NAME,
  InboundConnector: INBOUND_CONNECTOR_NAME,
  TransportRule: TRANSPORT_RULE_NAME,
};

/** The property carrying the marker: connectors have `Comment`, transport rules `Comments`. */
export function markerField(kind: ObjectKind): 'Comment' | 'Comments' {
  return kind === 'TransportRule' ? 'Comments' : 'Comment';
}

/**
 * Marker written into Comment/Comments. Only objects carrying `managed-by: sigops` are ever
 * changed; the tenant part is informative (the tenant is already given by the endpoint).
 */
export function markerFor(slug: string): string {
  return `managed-by: sigops; tenant: ${slug}`;
}

const MARKER_RE = /(^|[;\s])managed-by:\s*sigops(\s*;|\s*$)/i;
export function isManagedBySigops(record: ExchangeRecord, kind: ObjectKind): boolean {
  const v = record[markerField(kind)];
  return typeof v === 'string' && MARKER_RE.test(v);
}

export interface DesiredObject {
  readonly kind: ObjectKind;
  readonly name: string;
  /** Managed parameters, as New-/Set- take them (without Name/Identity). */
  readonly params: CmdletParameters;
  /** Transport rules only: enabled or disabled (Enable-/Disable-TransportRule). */
  readonly enabled?: boolean;
}

export function desiredObjects(tenant: Tenant): DesiredObject[] {
  const marker = markerFor(tenant.slug);
  const ex = tenant.exchange;
  return [
    {
      kind: 'OutboundConnector',
      name: OUTBOUND_CONNECTOR_NAME,
      params: {
        ConnectorType: 'OnPremises',
        IsTransportRuleScoped: true,
        UseMXRecord: false,
        SmartHosts: [ex.smartHost],
        TlsSettings: 'DomainValidation',
        TlsDomain: ex.smartHost,
        CloudServicesMailEnabled: true,
        Enabled: true,
        Comment: marker,
      },
    },
    {
      kind: 'InboundConnector',
      name: INBOUND_CONNECTOR_NAME,
      params: {
        ConnectorType: 'OnPremises',
        SenderDomains: ['*'],
        RequireTls: true,
        TlsSenderCertificateName: ex.certificateDomain,
        CloudServicesMailEnabled: true,
        Enabled: true,
        Comment: marker,
      },
    },
    {
      kind: 'TransportRule',
      name: TRANSPORT_RULE_NAME,
      enabled: tenant.enabled,
      params: {
        Priority: 0,
        Mode: 'Enforce',
        // The sender conditions (SenderDomainIs, FromMemberOf) look at the envelope sender, the
        // address the relay authorises, not at the From header. The null sender (MAIL FROM:<>:
        // automatic replies, recalls, some group copies) has no domain, so it is never routed:
        // mail coming back without a sender could not be attributed to the tenant.
        SenderAddressLocation: 'Envelope',
        FromScope: 'InOrganization',
        SentToScope: ex.internal ? null : 'NotInOrganization',
        FromMemberOf: ex.senders.kind === 'memberOf' ? [ex.senders.group] : null,
        // Exactly the domains the relay accepts for this tenant (src/model/sender.ts): it refuses
        // (550) any other sender, so routing mail of another accepted domain would bounce it.
        // Whether Exchange matches subdomains too or not, the relay accepts them.
        SenderDomainIs: [...routedSenderDomains(tenant)],
        RouteMessageOutboundConnector: OUTBOUND_CONNECTOR_NAME,
        // Exceptions (any one is enough): the loop breaker the relay stamps; automatic mail;
        // meeting requests and responses; what the relay could not take.
        ExceptIfHeaderContainsMessageHeader: PROCESSED_HEADER,
        ExceptIfHeaderContainsWords: ['true'],
        ExceptIfHeaderMatchesMessageHeader: AUTO_SUBMITTED_HEADER,
        ExceptIfHeaderMatchesPatterns: [...AUTO_SUBMITTED_PATTERNS],
        ExceptIfMessageTypeMatches: 'Calendaring',
        ExceptIfMessageSizeOver: MAX_ROUTED_MESSAGE_SIZE,
        StopRuleProcessing: true,
        Comments: marker,
      },
    },
  ];
}

type Comparison = 'exact' | 'ci' | 'set' | 'set-ci' | 'bool' | 'int' | 'size' | 'domains';

/** How each managed parameter compares; a live object is reduced to exactly these fields. */
export const FIELD_COMPARISON: Readonly<Record<ObjectKind, Readonly<Record<string, Comparison>>>> = {
  OutboundConnector: {
    ConnectorType: 'ci',
    IsTransportRuleScoped: 'bool',
    UseMXRecord: 'bool',
    SmartHosts: 'set-ci',
    TlsSettings: 'ci',
    TlsDomain: 'ci',
    CloudServicesMailEnabled: 'bool',
    Enabled: 'bool',
    Comment: 'exact',
  },
  InboundConnector: {
    ConnectorType: 'ci',
    SenderDomains: 'domains',
    RequireTls: 'bool',
    TlsSenderCertificateName: 'ci',
    CloudServicesMailEnabled: 'bool',
    Enabled: 'bool',
    Comment: 'exact',
  },
  TransportRule: {
    Priority: 'int',
    Mode: 'ci',
    SenderAddressLocation: 'ci',
    FromScope: 'ci',
    SentToScope: 'ci',
    FromMemberOf: 'set-ci',
    SenderDomainIs: 'set-ci',
    RouteMessageOutboundConnector: 'ci',
    ExceptIfHeaderContainsMessageHeader: 'ci',
    ExceptIfHeaderContainsWords: 'set-ci',
    ExceptIfHeaderMatchesMessageHeader: 'ci',
    // Regular expressions: the same patterns in any order, letter for letter.
    ExceptIfHeaderMatchesPatterns: 'set',
    ExceptIfMessageTypeMatches: 'ci',
    ExceptIfMessageSizeOver: 'size',
    StopRuleProcessing: 'bool',
    Comments: 'exact',
  },
};

/** Reduces a Get- record to the managed fields, as JSON-able plan values. */
export function liveFields(kind: ObjectKind, record: ExchangeRecord): Record<string, ExchangeValue> {
  const out: Record<string, ExchangeValue> = {};
  for (const field of Object.keys(FIELD_COMPARISON[kind])) out[field] = toValue(findProp(record, field));
  if (kind === 'TransportRule') out.State = toValue(findProp(record, 'State'));
  return out;
}

/** Exchange property names are case-insensitive (UseMxRecord vs UseMXRecord). */
function findProp(record: ExchangeRecord, name: string): unknown {
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(record)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function toValue(v: unknown): ExchangeValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => String(x));
  return JSON.stringify(v);
}

/** Whether the live rule is enabled (`State: Enabled`). */
export function isRuleEnabled(live: Readonly<Record<string, ExchangeValue>>): boolean {
  return String(live.State ?? 'Enabled').toLowerCase() !== 'disabled';
}

export function valuesEqual(kind: ObjectKind, field: string, desired: ExchangeValue, live: ExchangeValue): boolean {
  const how = FIELD_COMPARISON[kind][field] ?? 'exact';
  return canonical(how, desired) === canonical(how, live);
}

function canonical(how: Comparison, v: ExchangeValue): string {
  switch (how) {
    case 'exact':
      return JSON.stringify(v ?? '');
    case 'ci':
      return JSON.stringify(v === null ? '' : String(v).toLowerCase());
    case 'bool':
      return String(v === true || (typeof v === 'string' && v.toLowerCase() === 'true'));
    case 'int':
      return v === null || v === '' ? '' : String(Number(v));
    case 'size':
      return String(parseSize(v) ?? '');
    case 'set':
    case 'set-ci':
    case 'domains': {
      const list: readonly string[] = v === null ? [] : typeof v === 'object' ? v : [String(v)];
      const items = list.map((x) => (how === 'domains' ? stripAddressSpace(x) : x)).map((x) => (how === 'set' ? x : x.toLowerCase()));
      return JSON.stringify([...new Set(items)].sort());
    }
  }
}

/** "smtp:*;1" (address space type and cost, as Get-InboundConnector echoes it) → "*". */
function stripAddressSpace(s: string): string {
  return s.replace(/^smtp:/i, '').replace(/;\d+$/, '');
}

const UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
/** "150MB", "150 MB (157,286,400 bytes)", 157286400 → bytes. */
export function parseSize(v: ExchangeValue): number | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'object') return undefined;
  if (typeof v === 'number') return v;
  const exact = /\(([\d,]+) bytes\)/i.exec(v);
  if (exact?.[1]) return Number(exact[1].replaceAll(',', ''));
  const m = /^\s*([\d.]+)\s*(B|KB|MB|GB)?\s*$/i.exec(v);
  if (!m?.[1]) return undefined;
  return Math.round(Number(m[1]) * (UNITS[(m[2] ?? 'B').toUpperCase()] ?? 1));
}
