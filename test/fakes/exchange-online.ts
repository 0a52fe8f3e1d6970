// A fake of Exchange Online's admin REST API and of the Entra ID token endpoint, speaking the
// same HTTP as the real services so the production client code runs unchanged against it:
//
//   http://127.0.0.1:P/adminapi/beta/{tenantId}/InvokeCommand   cmdlets (bearer token, X-AnchorMailbox)
//   https://127.0.0.1:Q/{tenantId}/v2.0/.well-known/openid-configuration, /oauth2/v2.0/token,
//                      /oauth2/v2.0/devicecode, /common/discovery/instance
//   http://127.0.0.1:P/_apis/oidc/idtoken                         GitHub Actions' OIDC token request
//
// The login side is HTTPS with a throw-away self-signed certificate (made with openssl) because
// msal-node refuses non-https authorities. Both servers share one handler.
//
// Behaviour copied from the real services: AADSTS error bodies, error bodies
// `{"error":{"code","message","details":[{"message":"ErrId|ExceptionClass|text"}]}}`, refusal of
// parameters a cmdlet does not have (Set-TransportRule -Enabled), @odata.nextLink paging,
// 429/503 throttling with Retry-After, replication lag (writes visible to Get- only after N reads),
// echo formats ("150 MB (157,286,400 bytes)", "smtp:*;1"), contiguous rule priorities.
// Which messages the stored rules route: test/fakes/transport-rules.ts; how mail coming back
// through the inbound connector is attributed to a tenant: test/fakes/attribution.ts.
//
// What the real service does, and how sure we are (each is marked where it is implemented):
// * Every answer carries `@adminapi.warnings` (a list of strings) next to `value`: confirmed by
//   captures of real answers in open-source clients (GreyCorbel/ExoHelper ExoHelper.psm1 prints
//   them with -ShowWarnings; DrollRobot/azure-auth src/azure_auth/clients/invoke_command.py).
//   Errors inside a 200 (`@adminapi.errors`, or an `error` object as in $batch answers): a GUESS
//   at the shape; the issue that asked for it saw them, no public capture was found.
// * A cmdlet the caller may not run (an unknown one included) is refused with a 403 whose body
//   is declared gzip but is NUL bytes: measured by DrollRobot/azure-auth (clients/base.py,
//   invoke_command.py). A refused token gets a 401 whose only explanation is the
//   `WWW-Authenticate: Bearer … authorization_uri=…` header naming the cloud's login host: same source.
// * A nextLink handed out again: seen on Microsoft Graph (microsoftgraph/microsoft-graph-docs
//   issues 4897, 8186, 2635); for Exchange a GUESS that it can happen too.
// * Get-OutboundConnector hides connectors in TestMode unless -IncludeTestModeConnectors $true,
//   which lists only those: MicrosoftDocs/office-docs-powershell Get-OutboundConnector.md.
// * Rule conditions on groups echo the group's name (or primary address), whatever address was
//   given; Get-Recipient -Identity resolves any proxy address (Get-Recipient.md, -Identity).
// * Remove-OutboundConnector is refused while a rule routes to it, also while the rule's removal
//   has not replicated: the refusal is known from the admin center, its exact text is a GUESS.
// * `Prefer: odata.maxpagesize=N` sets the page size and a `client-request-id` is sent with every
//   request (both as the ExchangeOnlineManagement module does, per ExoHelper and azure-auth);
//   that the answer carries `request-id` and echoes `client-request-id` is a GUESS (Graph does).
// * Token audiences per cloud (outlook.office365.us, outlook-dod.office365.us, partner.outlook.cn):
//   microsoft/CSS-Exchange Shared/AzureFunctions/Get-CloudServiceEndpoint.ps1.
// * RBAC for Applications (read-only): Get-ServicePrincipal, Get-ManagementScope -Identity and
//   Get-ManagementRoleAssignment -Role/-RoleAssignee, with the output properties the cmdlet
//   reference and "Role Based Access Control for Applications in Exchange Online" show
//   (learn.microsoft.com/powershell/module/exchangepowershell/get-managementroleassignment,
//   …/get-managementscope, …/get-serviceprincipal, learn.microsoft.com/exchange/permissions-exo/application-rbac):
//   ServicePrincipal AppId/ObjectId/ServiceId/DisplayName/Identity; scope Name/RecipientFilter/
//   ScopeRestrictionType 'RecipientScope'; assignment Name/Role/RoleAssignee (the principal's
//   display name)/RoleAssigneeType 'ServicePrincipal'/CustomResourceScope/Enabled. That the three
//   run through InvokeCommand like any other cmdlet, and which identity RoleAssignee shows, are GUESSES.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  X509Certificate,
  constants as cryptoConstants,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type Kind = 'OutboundConnector' | 'InboundConnector' | 'TransportRule';
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export type FakeRecord = Record<string, Json>;

export const SYSTEM_MAILBOX_GUID = 'bb558c35-97f1-4cb9-8ff7-d53741dc928c';

/** The Microsoft clouds the fake can play, as the tenant file's `cloud:` names them. */
export type FakeCloud = 'global' | 'gcc' | 'gcc-high' | 'dod' | 'china';

/**
 * Per cloud: the resources tokens are issued for (Exchange Online, Graph) and the login host.
 * Written out here rather than taken from src/entra/cloud.ts, so a wrong endpoint there fails
 * the tests. Source: microsoft/CSS-Exchange, Shared/AzureFunctions/Get-CloudServiceEndpoint.ps1
 * (USGovernmentL4 = GCC High, USGovernmentL5 = DoD); https://learn.microsoft.com/graph/deployments.
 */
export const FAKE_CLOUDS: Readonly<Record<FakeCloud, { exchange: string; graph: string; login: string; instance: string }>> = {
  global: { exchange: 'https://outlook.office365.com', graph: 'https://graph.microsoft.com', login: 'login.microsoftonline.com', instance: 'microsoftonline.com' },
  gcc: { exchange: 'https://outlook.office365.com', graph: 'https://graph.microsoft.com', login: 'login.microsoftonline.com', instance: 'microsoftonline.com' },
  'gcc-high': { exchange: 'https://outlook.office365.us', graph: 'https://graph.microsoft.us', login: 'login.microsoftonline.us', instance: 'microsoftonline.us' },
  dod: { exchange: 'https://outlook-dod.office365.us', graph: 'https://dod-graph.microsoft.us', login: 'login.microsoftonline.us', instance: 'microsoftonline.us' },
  china: { exchange: 'https://partner.outlook.cn', graph: 'https://microsoftgraph.chinacloudapi.cn', login: 'login.partner.microsoftonline.cn', instance: 'partner.microsoftonline.cn' },
};

/** The worldwide cloud's scopes (the fake's default cloud). */
export const EXCHANGE_SCOPE = `${FAKE_CLOUDS.global.exchange}/.default`;
/** Microsoft Graph's resource: the token endpoint also issues tokens for it (test/fakes/graph.ts checks them). */
export const GRAPH_SCOPE = `${FAKE_CLOUDS.global.graph}/.default`;
/** Every cloud's resources: asking this fake's login for another cloud's is AADSTS500011, as Entra answers. */
const ALL_SCOPES = new Set(Object.values(FAKE_CLOUDS).flatMap((c) => [`${c.exchange}/.default`, `${c.graph}/.default`]));
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
/** Exchange Online's application id, as its WWW-Authenticate challenge names it. */
const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';

/** Makes a self-signed certificate with openssl (PEM key + cert), for TLS or client auth. */
export function selfSignedCertificate(commonName: string, altNames: string[] = []): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-cert-'));
  try {
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${commonName}`];
    args.push('-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'));
    if (altNames.length) args.push('-addext', `subjectAltName=${altNames.join(',')}`);
    execFileSync('openssl', args, { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FakeApp {
  readonly clientId: string;
  readonly secret?: string;
  /** PEM certificates whose private keys may sign client assertions. */
  readonly certificates?: readonly string[];
  /** Federated credential subjects accepted from the (fake) GitHub issuer, e.g. repo:o/r:ref:refs/heads/main. */
  readonly federatedSubjects?: readonly string[];
  /** Whether device-code (public client) sign-in is allowed. */
  readonly publicClient?: boolean;
  /**
   * Application permissions of Office 365 Exchange Online consented for the app: app-only
   * Exchange tokens carry them in the `roles` claim, and carry no `roles` claim when empty.
   * Default ['Exchange.ManageAsApp'].
   */
  readonly exchangeRoles?: readonly string[];
}

export interface ThrottleOptions {
  readonly status?: 429 | 503 | 504;
  readonly retryAfterSeconds?: number;
  /** Answer with the concurrent-requests error body instead of a plain throttle. */
  readonly concurrency?: boolean;
}

export interface FakeOptions {
  /** The cloud played: which token audiences are issued and accepted (default global). */
  readonly cloud?: FakeCloud;
  /** Most objects per page of Get- answers, whatever the client prefers (default 1000). */
  readonly pageSize?: number;
  /** Device-code polls answered "authorization_pending" before approval (default 1). */
  readonly deviceCodePendingPolls?: number;
  /** Polling interval handed to device-code clients, seconds (default 0.05). */
  readonly deviceCodeInterval?: number;
}

export interface LoggedCall {
  readonly tenantId: string;
  readonly cmdlet: string;
  readonly parameters: Readonly<Record<string, Json>>;
  readonly status: number;
  /** The `client-request-id` and `Prefer` headers the client sent. */
  readonly clientRequestId?: string;
  readonly prefer?: string;
  /** A 200 that reported errors (the cmdlet did nothing). */
  readonly failedInside?: boolean;
}

/**
 * How a 403 body looks. `undecodable`: declared gzip, NUL bytes (measured, see the header);
 * `empty`; `html` (an IIS error page); `truncated-json`; `json`: a complete error body.
 */
export type ForbiddenBody = 'undecodable' | 'empty' | 'html' | 'truncated-json' | 'json';

/** An error reported inside a 200 answer (a GUESS at the shape, see the header). */
export interface ErrorInsideOk {
  /** `adminapi.errors`: `"@adminapi.errors": [text]`; `error`: an `error` object as error answers have. */
  readonly form?: 'adminapi.errors' | 'error';
  /** "ErrId|ExceptionClass|text" as error details carry it. */
  readonly text?: string;
}

interface Entry {
  committed: FakeRecord | undefined;
  visible: FakeRecord | undefined;
  /** Cmdlet calls in this tenant still to come before `committed` becomes visible … */
  visibleIn: number;
  /** … and the time (ms since epoch) before which it is not visible. */
  visibleAt: number;
}

interface FakeTenant {
  readonly id: string;
  readonly stores: Record<Kind, Entry[]>;
  /** Whether the app's service principal holds an Exchange role here (else 403, with this body). */
  exchangeRole: boolean;
  forbiddenBody: ForbiddenBody;
  /** Cmdlets (lower-case) the app's role does not include: 403. */
  readonly deniedCmdlets: Map<string, ForbiddenBody>;
  /** Mail recipients (groups) known to Get-Recipient and to rule conditions. */
  readonly recipients: FakeRecipient[];
  /** Domains Get-AcceptedDomain lists (the tenant's <name>.onmicrosoft.com is always among them). */
  readonly acceptedDomains: FakeAcceptedDomain[];
  /** RBAC for Applications: service principals, management scopes, role assignments. */
  readonly servicePrincipals: FakeServicePrincipal[];
  readonly managementScopes: FakeManagementScope[];
  readonly roleAssignments: FakeRoleAssignment[];
}

/** A service principal as New-ServicePrincipal creates it in Exchange. */
export interface FakeServicePrincipal {
  readonly AppId: string;
  readonly ObjectId: string;
  readonly DisplayName: string;
}

/** A management scope as New-ManagementScope -Name -RecipientRestrictionFilter creates it. */
export interface FakeManagementScope {
  readonly Name: string;
  readonly RecipientRestrictionFilter: string;
}

/** A role assignment as New-ManagementRoleAssignment -App -Role [-CustomResourceScope] creates it. */
export interface FakeRoleAssignment {
  readonly Name: string;
  readonly Role: string;
  /** AppId of the service principal it is assigned to. */
  readonly App: string;
  readonly CustomResourceScope?: string;
  readonly Enabled?: boolean;
}

/**
 * One accepted domain as Get-AcceptedDomain shows it (Name, DomainName, DomainType, Default,
 * MatchSubDomains): https://learn.microsoft.com/powershell/module/exchangepowershell/get-accepteddomain
 * and set-accepteddomain (DomainType Authoritative | InternalRelay | ExternalRelay; MatchSubDomains
 * only on InternalRelay domains).
 */
export interface FakeAcceptedDomain {
  readonly DomainName: string;
  readonly DomainType?: 'Authoritative' | 'InternalRelay' | 'ExternalRelay';
  readonly Default?: boolean;
  readonly MatchSubDomains?: boolean;
}

export interface FakeRecipient {
  readonly Name: string;
  readonly Alias: string;
  readonly DisplayName: string;
  readonly PrimarySmtpAddress: string;
  readonly RecipientType?: string;
  /** Proxy addresses as Exchange lists them: `SMTP:` the primary, `smtp:` the secondary ones. */
  readonly EmailAddresses?: readonly string[];
  readonly Guid?: string;
  readonly ExternalDirectoryObjectId?: string;
  readonly DistinguishedName?: string;
}

// Parameters each cmdlet accepts (a realistic subset). Anything else is refused like
// PowerShell does: ParameterBindingException "A parameter cannot be found that matches …".
type ParamType = 'string' | 'bool' | 'int' | 'strings' | 'size' | { enum: readonly string[]; nullable?: boolean };
const OUTBOUND_PARAMS: Record<string, ParamType> = {
  ConnectorType: { enum: ['OnPremises', 'Partner'] },
  IsTransportRuleScoped: 'bool',
  UseMXRecord: 'bool',
  SmartHosts: 'strings',
  TlsSettings: { enum: ['EncryptionOnly', 'CertificateValidation', 'DomainValidation'], nullable: true },
  TlsDomain: 'string',
  CloudServicesMailEnabled: 'bool',
  Enabled: 'bool',
  Comment: 'string',
  RecipientDomains: 'strings',
  RouteAllMessagesViaOnPremises: 'bool',
  AllAcceptedDomains: 'bool',
  SenderRewritingEnabled: 'bool',
  TestMode: 'bool',
};
const INBOUND_PARAMS: Record<string, ParamType> = {
  ConnectorType: { enum: ['OnPremises', 'Partner'] },
  SenderDomains: 'strings',
  SenderIPAddresses: 'strings',
  RequireTls: 'bool',
  TlsSenderCertificateName: 'string',
  RestrictDomainsToCertificate: 'bool',
  RestrictDomainsToIPAddresses: 'bool',
  CloudServicesMailEnabled: 'bool',
  TreatMessagesAsInternal: 'bool',
  Enabled: 'bool',
  Comment: 'string',
};
// Transport rule parameters: New-/Set-TransportRule in
// https://learn.microsoft.com/powershell/module/exchangepowershell/new-transportrule (valid values
// as listed there; SenderAddressLocation defaults to Header).
export const SENDER_ADDRESS_LOCATIONS = ['Header', 'Envelope', 'HeaderOrEnvelope'] as const;
export const MESSAGE_TYPES = ['OOF', 'AutoForward', 'Encrypted', 'Calendaring', 'PermissionControlled', 'Voicemail', 'Signed', 'ApprovalRequest', 'ReadReceipt'] as const;
const RULE_PARAMS: Record<string, ParamType> = {
  Priority: 'int',
  Mode: { enum: ['Audit', 'AuditAndNotify', 'Enforce'] },
  SenderAddressLocation: { enum: SENDER_ADDRESS_LOCATIONS },
  FromScope: { enum: ['InOrganization', 'NotInOrganization'], nullable: true },
  SentToScope: { enum: ['InOrganization', 'NotInOrganization', 'ExternalPartner', 'ExternalNonPartner'], nullable: true },
  FromMemberOf: 'strings',
  SenderDomainIs: 'strings',
  SentTo: 'strings',
  RouteMessageOutboundConnector: 'string',
  ExceptIfHeaderContainsMessageHeader: 'string',
  ExceptIfHeaderContainsWords: 'strings',
  // One header name (HeaderName), several regular expressions (Pattern[]).
  ExceptIfHeaderMatchesMessageHeader: 'string',
  ExceptIfHeaderMatchesPatterns: 'strings',
  // One message type (MessageType), not a list.
  ExceptIfMessageTypeMatches: { enum: MESSAGE_TYPES, nullable: true },
  ExceptIfMessageSizeOver: 'size',
  StopRuleProcessing: 'bool',
  Comments: 'string',
  SetHeaderName: 'string',
  SetHeaderValue: 'string',
};
const PARAMS: Record<Kind, Record<string, ParamType>> = {
  OutboundConnector: OUTBOUND_PARAMS,
  InboundConnector: INBOUND_PARAMS,
  TransportRule: RULE_PARAMS,
};

function cmdletSchema(cmdlet: string): { verb: string; kind: Kind; params: Record<string, ParamType> } | undefined {
  const m = /^(Get|New|Set|Remove|Enable|Disable)-(OutboundConnector|InboundConnector|TransportRule)$/i.exec(cmdlet);
  if (!m) return undefined;
  const verb = m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1).toLowerCase();
  const kind = (['OutboundConnector', 'InboundConnector', 'TransportRule'] as const).find((k) => k.toLowerCase() === m[2]!.toLowerCase())!;
  if ((verb === 'Enable' || verb === 'Disable') && kind !== 'TransportRule') return undefined;
  const own = PARAMS[kind];
  switch (verb) {
    case 'Get':
      return {
        verb,
        kind,
        params: {
          Identity: 'string',
          ...(kind === 'TransportRule' ? { ResultSize: 'string', State: 'string' } : {}),
          // Get-OutboundConnector.md: both are Boolean filters.
          ...(kind === 'OutboundConnector' ? { IncludeTestModeConnectors: 'bool', IsTransportRuleScoped: 'bool' } : {}),
        },
      };
    case 'New':
      // New-TransportRule has -Enabled; New-*Connector have -Enabled among their own parameters.
      return { verb, kind, params: { Name: 'string', ...own, ...(kind === 'TransportRule' ? { Enabled: 'bool' } : {}) } };
    case 'Set':
      // Set-TransportRule has NO -Enabled (Enable-/Disable-TransportRule do that).
      return { verb, kind, params: { Identity: 'string', Name: 'string', ...own } };
    case 'Remove':
      return { verb, kind, params: { Identity: 'string', Confirm: 'bool' } };
    // Enable-/Disable-TransportRule take -Identity (and -Confirm); they only switch State
    // (MicrosoftDocs/office-docs-powershell, exchange/exchange-ps/exchange/Enable-TransportRule.md
    // and Disable-TransportRule.md). `sigops failover` and apply use them.
    case 'Enable':
      return { verb, kind, params: { Identity: 'string' } };
    case 'Disable':
      return { verb, kind, params: { Identity: 'string', Confirm: 'bool' } };
  }
  return undefined;
}

/** One header's value as a string (the first, when repeated). */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The cmdlets this fake knows; any other is refused like one the app may not run. */
function knownCmdlet(cmdlet: string): boolean {
  return /^Get-(Recipient|AcceptedDomain|ServicePrincipal|ManagementScope|ManagementRoleAssignment)$/i.test(cmdlet) || cmdletSchema(cmdlet) !== undefined;
}

class CmdletError extends Error {
  constructor(
    readonly status: number,
    readonly exceptionClass: string,
    message: string,
  ) {
    super(message);
  }
}

function errId(): string {
  return `Ex${randomBytes(3).toString('hex').toUpperCase()}`;
}

/** "150MB" → bytes; Exchange echoes "150 MB (157,286,400 bytes)". */
function toBytes(v: Json): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*([\d.]+)\s*(B|KB|MB|GB)?\s*$/i.exec(v);
  if (!m) return undefined;
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? 'B').toUpperCase() as 'B'];
  return Math.round(Number(m[1]) * mult);
}

function sizeEcho(bytes: number): string {
  const units: [string, number][] = [
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ];
  const [u, n] = units.find(([, n]) => bytes >= n) ?? ['B', 1];
  const value = Number((bytes / n).toFixed(3));
  return `${value} ${u} (${bytes.toLocaleString('en-US')} bytes)`;
}

function b64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url');
}

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signed: string; signature: Buffer } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      signed: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

function signJwtRs256(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(payload));
  const sig = cryptoSign('sha256', Buffer.from(`${header}.${body}`), key);
  return `${header}.${body}.${b64url(sig)}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** An answer whose body is given as bytes (empty, HTML, truncated, or undecodable). */
function sendRaw(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': String(body.length), ...headers });
  res.end(body);
}

/** The 403 bodies Exchange (or a proxy in front of it) has been seen to send. */
function forbiddenBody(kind: ForbiddenBody): { body: Buffer; headers: Record<string, string> } {
  switch (kind) {
    case 'undecodable':
      // Declared gzip, NUL bytes: fetch rejects reading it (DrollRobot/azure-auth, measured).
      return { body: Buffer.alloc(16), headers: { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' } };
    case 'empty':
      return { body: Buffer.alloc(0), headers: {} };
    case 'html':
      return {
        body: Buffer.from('<!DOCTYPE html><html><head><title>403 - Forbidden: Access is denied.</title></head><body><h2>403 - Forbidden: Access is denied.</h2></body></html>'),
        headers: { 'content-type': 'text/html' },
      };
    case 'truncated-json':
      return { body: Buffer.from('{"error":{"code":"Forbidden","message":"The user or application doesn'), headers: { 'content-type': 'application/json; charset=utf-8' } };
    case 'json':
      return { body: Buffer.alloc(0), headers: {} }; // not used: the JSON body is built by the caller
  }
}

export class FakeExchangeOnline {
  /** http://127.0.0.1:P — use as SIGOPS_EXCHANGE_URL. */
  exchangeUrl = '';
  /** https://127.0.0.1:Q — use as SIGOPS_LOGIN_URL (trust `caCert`). */
  loginUrl = '';
  /** The GitHub Actions OIDC request URL (ACTIONS_ID_TOKEN_REQUEST_URL). */
  githubOidcUrl = '';
  /** The fake GitHub request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  readonly githubRequestToken = `ghs_${randomBytes(12).toString('hex')}`;
  /** Subject the fake GitHub puts into OIDC tokens. */
  githubSubject = 'repo:example/sigops-config:ref:refs/heads/main';
  /** PEM of the login server's self-signed certificate: trust it (msal `ca`, NODE_EXTRA_CA_CERTS). */
  readonly caCert: string;
  /** Every InvokeCommand call, in order. */
  readonly calls: LoggedCall[] = [];
  /** Every token request: grant type and outcome. */
  readonly tokenRequests: { tenantId: string; grantType: string; clientId: string; ok: boolean; error?: string }[] = [];
  /** Hosts + paths requested, for "nothing but loopback" checks. */
  readonly requests: string[] = [];

  private readonly tlsKey: string;
  private readonly tenants = new Map<string, FakeTenant>();
  private readonly apps = new Map<string, FakeApp>();
  private readonly tokens = new Map<string, { tenantId: string; clientId: string; expires: number; scope: string; upn?: string }>();
  private readonly deviceCodes = new Map<string, { tenantId: string; clientId: string; pending: number }>();
  private readonly githubKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private throttleQueue: ThrottleOptions[] = [];
  private lag = { calls: 0, ms: 0 };
  /** The cloud played: which audiences the token endpoint issues and InvokeCommand accepts. */
  readonly cloud: FakeCloud;
  /** How rule conditions on groups (FromMemberOf) show the group: its Name, or its primary address. */
  groupEcho: 'Name' | 'PrimarySmtpAddress' = 'Name';
  private warningsQueue: string[][] = [];
  private errorsInsideOk: ErrorInsideOk[] = [];
  private repeatingNextLink = false;
  private readonly pageSize: number;
  private readonly pendingPolls: number;
  private readonly deviceInterval: number;
  private http: Server | undefined;
  private https: Server | undefined;

  constructor(options: FakeOptions = {}) {
    const { key, cert } = selfSignedCertificate('127.0.0.1', ['IP:127.0.0.1', 'DNS:localhost']);
    this.tlsKey = key;
    this.caCert = cert;
    this.cloud = options.cloud ?? 'global';
    this.pageSize = options.pageSize ?? 1000;
    this.pendingPolls = options.deviceCodePendingPolls ?? 1;
    this.deviceInterval = options.deviceCodeInterval ?? 0.05;
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => send(res, 500, { error: { code: 'InternalServerError', message: String(err) } }));
    };
    this.http = createHttpServer(handler);
    this.https = createHttpsServer({ key: this.tlsKey, cert: this.caCert }, handler);
    for (const s of [this.http, this.https]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    this.exchangeUrl = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
    this.loginUrl = `https://127.0.0.1:${(this.https.address() as AddressInfo).port}`;
    this.githubOidcUrl = `${this.exchangeUrl}/_apis/oidc/idtoken?api-version=2.0`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of [this.http, this.https]) {
      if (!s) continue;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  // ---- set-up ------------------------------------------------------------------------------

  /** The Exchange Online scope of the cloud played (`<resource>/.default`). */
  get exchangeScope(): string {
    return `${FAKE_CLOUDS[this.cloud].exchange}/.default`;
  }

  /** The Microsoft Graph scope of the cloud played (test/fakes/graph.ts checks its tokens). */
  get graphScope(): string {
    return `${FAKE_CLOUDS[this.cloud].graph}/.default`;
  }

  addTenant(tenantId: string): this {
    const id = tenantId.toLowerCase();
    if (!this.tenants.has(id)) {
      // Every tenant has its initial domain, <name>.onmicrosoft.com.
      const initial = { DomainName: `${id.slice(0, 8)}.onmicrosoft.com`, DomainType: 'Authoritative' as const, Default: true };
      this.tenants.set(id, {
        id,
        stores: { OutboundConnector: [], InboundConnector: [], TransportRule: [] },
        exchangeRole: true,
        forbiddenBody: 'undecodable',
        deniedCmdlets: new Map(),
        recipients: [],
        acceptedDomains: [initial],
        servicePrincipals: [],
        managementScopes: [],
        roleAssignments: [],
      });
    }
    return this;
  }

  registerApp(app: FakeApp): this {
    this.apps.set(app.clientId, app);
    return this;
  }

  /**
   * A group the tenant has. Rule conditions naming it (FromMemberOf) are stored as the
   * recipient and read back by its Name, as Exchange shows them, not by the address given.
   */
  addRecipient(tenantId: string, recipient: FakeRecipient): FakeRecipient {
    const t = this.tenant(tenantId);
    const full: FakeRecipient = {
      RecipientType: 'MailUniversalDistributionGroup',
      Guid: randomUUID(),
      ExternalDirectoryObjectId: randomUUID(),
      DistinguishedName: `CN=${recipient.Name},OU=${t.id.slice(0, 8)}.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM`,
      EmailAddresses: [`SMTP:${recipient.PrimarySmtpAddress}`],
      ...recipient,
    };
    t.recipients.push(full);
    return full;
  }

  /** New-ServicePrincipal in the tenant (RBAC for Applications). */
  addServicePrincipal(tenantId: string, sp: FakeServicePrincipal): void {
    this.tenant(tenantId).servicePrincipals.push(sp);
  }

  /** New-ManagementScope in the tenant. */
  addManagementScope(tenantId: string, scope: FakeManagementScope): void {
    this.tenant(tenantId).managementScopes.push(scope);
  }

  /** New-ManagementRoleAssignment -App in the tenant. */
  addRoleAssignment(tenantId: string, assignment: FakeRoleAssignment): void {
    this.tenant(tenantId).roleAssignments.push(assignment);
  }

  /** An accepted domain of the tenant (Get-AcceptedDomain). */
  addAcceptedDomain(tenantId: string, domain: string | FakeAcceptedDomain): void {
    const d = typeof domain === 'string' ? { DomainName: domain } : domain;
    this.tenant(tenantId).acceptedDomains.push({ DomainType: 'Authoritative', Default: false, MatchSubDomains: false, ...d });
  }

  /** The tenant's accepted domains, as Get-AcceptedDomain lists them (for test/fakes/attribution.ts). */
  acceptedDomainsOf(tenantId: string): FakeAcceptedDomain[] {
    return this.tenant(tenantId).acceptedDomains.map((d) => ({ ...d }));
  }

  /** Exchange Administrator role for the app in this tenant (false → 403 on InvokeCommand, with `body`). */
  setExchangeRole(tenantId: string, hasRole: boolean, body: ForbiddenBody = 'undecodable'): void {
    const t = this.tenant(tenantId);
    t.exchangeRole = hasRole;
    t.forbiddenBody = body;
  }

  /** The app's role lacks these cmdlets in this tenant: each answers 403 with `body`. */
  denyCmdlets(tenantId: string, cmdlets: readonly string[], body: ForbiddenBody = 'undecodable'): void {
    const t = this.tenant(tenantId);
    t.deniedCmdlets.clear();
    for (const c of cmdlets) t.deniedCmdlets.set(c.toLowerCase(), body);
  }

  /** The next successful answer (any tenant) carries these `@adminapi.warnings`. */
  warnNext(warnings: readonly string[]): void {
    this.warningsQueue.push([...warnings]);
  }

  /**
   * The next `count` cmdlets are not carried out and answer 200 with an error inside (a GUESS
   * at the shape: `@adminapi.errors`, or an `error` object).
   */
  failInsideOkNext(count: number, error: ErrorInsideOk = {}): void {
    for (let i = 0; i < count; i++) this.errorsInsideOk.push(error);
  }

  /** From now on every Get- answer carries the same @odata.nextLink again (as Graph has done). */
  repeatNextLink(on: boolean): void {
    this.repeatingNextLink = on;
  }

  /**
   * A token as this fake's login would issue it, for any scope: e.g. one for another cloud's
   * Exchange, which InvokeCommand must refuse (the real login refuses to issue it).
   */
  mintToken(tenantId: string, clientId: string, scope: string): string {
    return this.issueToken(tenantId.toLowerCase(), clientId, undefined, scope);
  }

  /**
   * Replication lag for writes from now on: a write is seen by reads (Get-, and the name look-up
   * of New-TransportRule -RouteMessageOutboundConnector) only after `calls` further cmdlet calls
   * in that tenant and `ms` milliseconds. A number means calls.
   */
  setReplicationLag(lag: number | { calls?: number; ms?: number }): void {
    this.lag = typeof lag === 'number' ? { calls: lag, ms: 0 } : { calls: lag.calls ?? 0, ms: lag.ms ?? 0 };
  }

  /** The next `count` InvokeCommand requests are throttled. */
  throttleNext(count: number, options: ThrottleOptions = {}): void {
    for (let i = 0; i < count; i++) this.throttleQueue.push(options);
  }

  /** Puts an object straight into a tenant (visible at once), e.g. an admin's own connector. */
  seed(tenantId: string, kind: Kind, record: FakeRecord): void {
    const t = this.tenant(tenantId);
    const full = this.complete(kind, { ...record }, t);
    t.stores[kind].push({ committed: full, visible: full, visibleIn: 0, visibleAt: 0 });
    if (kind === 'TransportRule') this.renumber(t);
  }

  /** Current (committed) objects of a kind, as Get- would show them once replicated. */
  objects(tenantId: string, kind: Kind): FakeRecord[] {
    return this.tenant(tenantId)
      .stores[kind].filter((e) => e.committed)
      .map((e) => this.echo(kind, e.committed!));
  }

  object(tenantId: string, kind: Kind, name: string): FakeRecord | undefined {
    return this.objects(tenantId, kind).find((r) => String(r.Name).toLowerCase() === name.toLowerCase());
  }

  /** Cmdlets that changed something, in order, e.g. "New-OutboundConnector sigops outbound". */
  writes(tenantId?: string): string[] {
    return this.calls
      .filter((c) => c.status === 200 && !c.failedInside && !c.cmdlet.startsWith('Get-') && (!tenantId || c.tenantId === tenantId))
      .map((c) => `${c.cmdlet} ${String(c.parameters.Name ?? c.parameters.Identity ?? '')}`);
  }

  private tenant(tenantId: string): FakeTenant {
    const t = this.tenants.get(tenantId.toLowerCase());
    if (!t) throw new Error(`fake: no tenant ${tenantId}`);
    return t;
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push(`${req.headers.host ?? ''}${url.pathname}`);
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && (m = /^\/adminapi\/beta\/([^/]+)\/InvokeCommand$/i.exec(path))) {
      return this.invokeCommand(req, res, decodeURIComponent(m[1]!), url);
    }
    if (req.method === 'GET' && path === '/_apis/oidc/idtoken') return this.githubOidc(req, res, url);
    if (req.method === 'GET' && path === '/common/discovery/instance') return this.instanceDiscovery(res, url);
    if (req.method === 'GET' && (m = /^\/([^/]+)(?:\/v2\.0)?\/\.well-known\/openid-configuration$/.exec(path))) {
      return this.openIdConfiguration(res, m[1]!);
    }
    if (req.method === 'POST' && (m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path))) return this.token(req, res, m[1]!);
    if (req.method === 'POST' && (m = /^\/([^/]+)\/oauth2\/v2\.0\/devicecode$/.exec(path))) return this.deviceCode(req, res, m[1]!);
    send(res, 404, { error: { code: 'NotFound', message: `no route ${req.method} ${path}` } });
  }

  // ---- Entra ID ----------------------------------------------------------------------------

  private instanceDiscovery(res: ServerResponse, url: URL): void {
    const host = new URL(this.loginUrl).host;
    const auth = url.searchParams.get('authorization_endpoint') ?? `${this.loginUrl}/common/oauth2/v2.0/authorize`;
    const tenant = /^https:\/\/[^/]+\/([^/]+)/.exec(auth)?.[1] ?? 'common';
    send(res, 200, {
      tenant_discovery_endpoint: `${this.loginUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }

  private openIdConfiguration(res: ServerResponse, tenant: string): void {
    const base = `${this.loginUrl}/${tenant}`;
    send(res, 200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${this.loginUrl}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${this.loginUrl}/${tenant}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: this.cloud === 'gcc-high' || this.cloud === 'dod' ? 'USGov' : 'EU',
      cloud_instance_name: FAKE_CLOUDS[this.cloud].instance,
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: new URL(FAKE_CLOUDS[this.cloud].graph).host,
      rbac_url: 'https://pas.windows.net',
    });
  }

  private aadError(res: ServerResponse, status: number, error: string, code: number, text: string): void {
    const trace = randomUUID();
    const correlation = randomUUID();
    send(res, status, {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`,
      error_codes: [code],
      timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `${this.loginUrl}/error?code=${code}`,
    });
  }

  private async token(req: IncomingMessage, res: ServerResponse, tenantPath: string): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get('grant_type') ?? '';
    const clientId = form.get('client_id') ?? '';
    const tenantId = tenantPath.toLowerCase();
    const log = (ok: boolean, error?: string): void => {
      this.tokenRequests.push({ tenantId, grantType, clientId, ok, ...(error ? { error } : {}) });
    };
    if (!this.tenants.has(tenantId)) {
      log(false, 'AADSTS90002');
      return this.aadError(res, 400, 'invalid_request', 90002, `Tenant '${tenantPath}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const app = this.apps.get(clientId);
    if (!app) {
      log(false, 'AADSTS700016');
      return this.aadError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantPath}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    }
    // msal sends the short form; the RFC 8628 URN is accepted too, as Entra does.
    if (grantType === 'device_code' || grantType === 'urn:ietf:params:oauth:grant-type:device_code') return this.deviceCodeToken(res, form, tenantId, app, log);
    if (grantType !== 'client_credentials') {
      log(false, 'AADSTS70003');
      return this.aadError(res, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    const scope = form.get('scope') ?? '';
    const resource = scope.split(' ').find((s) => s === this.exchangeScope || s === this.graphScope);
    const otherCloud = scope.split(' ').find((s) => ALL_SCOPES.has(s));
    if (!resource && otherCloud) {
      // Another cloud's resource is unknown to this cloud's Entra.
      log(false, 'AADSTS500011');
      return this.aadError(res, 400, 'invalid_resource', 500011, `The resource principal named ${otherCloud.replace('/.default', '')} was not found in the tenant named ${tenantPath}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
    }
    if (!resource) {
      log(false, 'AADSTS1002012');
      return this.aadError(res, 400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`);
    }
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (!app.secret || secret !== app.secret) {
        log(false, 'AADSTS7000215');
        return this.aadError(res, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
      }
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        log(false, 'AADSTS700024');
        return this.aadError(res, 400, 'invalid_client', 700024, 'Client assertion type is not valid.');
      }
      const problem = this.checkAssertion(assertion, app, `${this.loginUrl}/${tenantPath}/oauth2/v2.0/token`);
      if (problem) {
        log(false, `AADSTS${problem.code}`);
        return this.aadError(res, 401, 'invalid_client', problem.code, problem.text);
      }
    } else {
      log(false, 'AADSTS7000218');
      return this.aadError(res, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    log(true);
    send(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: this.issueToken(tenantId, clientId, undefined, resource) });
  }

  /**
   * A bearer token shaped like Entra's (a JWT whose claims can be read; its signature is random,
   * as the fake looks tokens up rather than verifying them). App-only Exchange tokens carry the
   * app's application permissions in `roles`, delegated ones the scope in `scp`, as Entra's do.
   */
  private issueToken(tenantId: string, clientId: string, upn?: string, scope: string = this.exchangeScope): string {
    const now = Math.floor(Date.now() / 1000);
    const roles = upn || scope !== this.exchangeScope ? [] : (this.apps.get(clientId)?.exchangeRoles ?? ['Exchange.ManageAsApp']);
    const claims = {
      aud: scope.replace(/\/\.default$/, ''),
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      appid: clientId,
      tid: tenantId,
      oid: randomUUID(),
      ver: '1.0',
      ...(upn ? { upn, scp: 'Exchange.Manage' } : { idtyp: 'app' }),
      ...(roles.length > 0 ? { roles: [...roles] } : {}),
    };
    const token = [b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256' })), b64url(JSON.stringify(claims)), randomBytes(32).toString('base64url')].join('.');
    this.tokens.set(token, { tenantId, clientId, expires: Date.now() + 3_600_000, scope, ...(upn ? { upn } : {}) });
    return token;
  }

  /** Who a bearer token was issued to and for which resource (scope), if this fake issued it and it is valid. */
  tokenGrant(token: string): { tenantId: string; clientId: string; scope: string } | undefined {
    const grant = this.tokens.get(token);
    if (!grant || grant.expires < Date.now()) return undefined;
    return { tenantId: grant.tenantId, clientId: grant.clientId, scope: grant.scope };
  }

  private checkAssertion(assertion: string, app: FakeApp, audience: string): { code: number; text: string } | undefined {
    const jwt = decodeJwt(assertion);
    if (!jwt) return { code: 50027, text: 'JWT token is invalid or malformed.' };
    const now = Date.now() / 1000;
    if (typeof jwt.payload.exp !== 'number' || jwt.payload.exp < now) return { code: 700024, text: 'Client assertion is not within its valid time range.' };
    if (jwt.payload.iss === GITHUB_ISSUER) {
      // Workload identity federation: a GitHub Actions token for the configured subject.
      const ok = cryptoVerify('sha256', Buffer.from(jwt.signed), this.githubKey.publicKey, jwt.signature);
      if (!ok) return { code: 700213, text: 'No matching federated identity record found for presented assertion: signature invalid.' };
      if (jwt.payload.aud !== 'api://AzureADTokenExchange') return { code: 700212, text: `No matching federated identity record found for presented assertion audience '${String(jwt.payload.aud)}'.` };
      if (!app.federatedSubjects?.includes(String(jwt.payload.sub))) {
        return { code: 70021, text: `No matching federated identity record found for presented assertion. Assertion Issuer: '${GITHUB_ISSUER}'. Assertion Subject: '${String(jwt.payload.sub)}'. Assertion Audience: 'api://AzureADTokenExchange'.` };
      }
      return undefined;
    }
    // Certificate credential: x5t#S256 (SHA-256) or x5t (SHA-1) names one of the app's certificates.
    if (jwt.payload.iss !== app.clientId || jwt.payload.sub !== app.clientId) return { code: 700023, text: 'Client assertion audience/issuer claim does not match.' };
    if (jwt.payload.aud !== audience) return { code: 700024, text: `Client assertion audience claim does not match Realm issuer. Expected ${audience}.` };
    const s256 = typeof jwt.header['x5t#S256'] === 'string' ? Buffer.from(jwt.header['x5t#S256'], 'base64url').toString('hex') : undefined;
    const s1 = typeof jwt.header.x5t === 'string' ? Buffer.from(jwt.header.x5t, 'base64url').toString('hex') : undefined;
    for (const pem of app.certificates ?? []) {
      const cert = new X509Certificate(pem);
      const f256 = cert.fingerprint256.replaceAll(':', '').toLowerCase();
      const f1 = cert.fingerprint.replaceAll(':', '').toLowerCase();
      if (s256 !== f256 && s1 !== f1) continue;
      const key = createPublicKey(pem);
      const data = Buffer.from(jwt.signed);
      const ok =
        jwt.header.alg === 'PS256'
          ? cryptoVerify('sha256', data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_AUTO }, jwt.signature)
          : cryptoVerify('sha256', data, key, jwt.signature);
      return ok ? undefined : { code: 7000274, text: 'Key was found, but use of the key to verify the signature failed.' };
    }
    return { code: 700027, text: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${(s256 ?? s1 ?? '').toUpperCase()}']` };
  }

  private async deviceCode(req: IncomingMessage, res: ServerResponse, tenantPath: string): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const clientId = form.get('client_id') ?? '';
    const tenantId = tenantPath.toLowerCase();
    if (!this.tenants.has(tenantId)) return this.aadError(res, 400, 'invalid_request', 90002, `Tenant '${tenantPath}' not found.`);
    const app = this.apps.get(clientId);
    if (!app) return this.aadError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantPath}'.`);
    if (!app.publicClient) return this.aadError(res, 400, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    const deviceCode = randomBytes(24).toString('base64url');
    const userCode = randomBytes(4).toString('hex').toUpperCase().slice(0, 9);
    this.deviceCodes.set(deviceCode, { tenantId, clientId, pending: this.pendingPolls });
    send(res, 200, {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: 'https://microsoft.com/devicelogin',
      expires_in: 900,
      interval: this.deviceInterval,
      message: `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ${userCode} to authenticate.`,
    });
  }

  private deviceCodeToken(
    res: ServerResponse,
    form: URLSearchParams,
    tenantId: string,
    app: FakeApp,
    log: (ok: boolean, error?: string) => void,
  ): void {
    const entry = this.deviceCodes.get(form.get('device_code') ?? '');
    if (!entry || entry.clientId !== app.clientId || entry.tenantId !== tenantId) {
      log(false, 'AADSTS70000');
      return this.aadError(res, 400, 'invalid_grant', 70000, 'The provided value for the input parameter device_code is not valid.');
    }
    if (entry.pending > 0) {
      entry.pending--;
      log(false, 'authorization_pending');
      return this.aadError(res, 400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.');
    }
    this.deviceCodes.delete(form.get('device_code') ?? '');
    log(true);
    const now = Math.floor(Date.now() / 1000);
    const oid = randomUUID();
    const upn = `admin@${tenantId.slice(0, 8)}.onmicrosoft.com`;
    const idToken = [
      b64url(JSON.stringify({ alg: 'none', typ: 'JWT' })),
      b64url(
        JSON.stringify({
          aud: app.clientId,
          iss: `${this.loginUrl}/${tenantId}/v2.0`,
          iat: now,
          nbf: now,
          exp: now + 3600,
          name: 'Exchange Admin',
          oid,
          preferred_username: upn,
          sub: randomUUID(),
          tid: tenantId,
          ver: '2.0',
        }),
      ),
      '',
    ].join('.');
    send(res, 200, {
      token_type: 'Bearer',
      scope: `${this.exchangeScope.replace('/.default', '/Exchange.Manage')}`,
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: this.issueToken(tenantId, app.clientId, upn),
      id_token: idToken,
      client_info: b64url(JSON.stringify({ uid: oid, utid: tenantId })),
    });
  }

  private githubOidc(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.headers.authorization?.toLowerCase() !== `bearer ${this.githubRequestToken}`.toLowerCase()) {
      return send(res, 401, { message: 'Bad credentials' });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = signJwtRs256(
      {
        jti: randomUUID(),
        sub: this.githubSubject,
        aud: url.searchParams.get('audience') ?? 'https://github.com/example',
        iss: GITHUB_ISSUER,
        nbf: now - 5,
        iat: now,
        exp: now + 300,
        repository: this.githubSubject.split(':')[1] ?? '',
      },
      this.githubKey.privateKey,
      'fake-github',
    );
    send(res, 200, { count: 1, value: token });
  }

  // ---- Exchange Online ---------------------------------------------------------------------

  private async invokeCommand(req: IncomingMessage, res: ServerResponse, tenantPath: string, url: URL): Promise<void> {
    const raw = await readBody(req);
    const tenantId = tenantPath.toLowerCase();
    let cmdlet = '';
    let parameters: Record<string, Json> = {};
    const clientRequestId = headerValue(req, 'client-request-id');
    const prefer = headerValue(req, 'prefer');
    // Answers name the request (a GUESS for Exchange: Graph sends request-id and echoes client-request-id).
    const ids: Record<string, string> = { 'request-id': randomUUID(), ...(clientRequestId ? { 'client-request-id': clientRequestId } : {}) };
    const log = (status: number, extra: Partial<LoggedCall> = {}): void => {
      this.calls.push({ tenantId, cmdlet, parameters, status, ...(clientRequestId ? { clientRequestId } : {}), ...(prefer ? { prefer } : {}), ...extra });
    };
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}, extra: Partial<LoggedCall> = {}): void => {
      log(status, extra);
      send(res, status, body, { ...ids, ...headers });
    };
    const fail = (status: number, code: string, message: string, exceptionClass?: string, detail?: string): void => {
      // The shape of a real error answer (a Remove-Mailbox capture, e.g. in the CmdletProxy
      // error text the module prints): code, "Error executing cmdlet", details with
      // "ErrId|ExceptionClass|text", innererror, and the (empty) warnings.
      reply(status, {
        error: {
          code,
          message,
          details: exceptionClass ? [{ code: 'Client', target: '', message: `${errId()}|${exceptionClass}|${detail ?? message}` }] : [],
          innererror: { message, type: exceptionClass ?? code },
        },
        'adminapi.warnings@odata.type': '#Collection(String)',
        '@adminapi.warnings': [],
      });
    };
    /** A refused token: 401 with no body, only the challenge naming the cloud's login (DrollRobot/azure-auth). */
    const unauthorized = (): void => {
      log(401);
      sendRaw(res, 401, Buffer.alloc(0), {
        ...ids,
        'WWW-Authenticate': `Bearer client_id="${EXCHANGE_APP_ID}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://${FAKE_CLOUDS[this.cloud].login}/common/oauth2/authorize", error="invalid_token"`,
      });
    };
    const forbidden = (kind: ForbiddenBody): void => {
      if (kind === 'json') {
        return fail(403, 'Forbidden', "The user or application doesn't have the required role to run this cmdlet.", 'Microsoft.Exchange.Configuration.Tasks.CmdletAccessDeniedException', `The term '${cmdlet}' is not accessible: no management role assignment grants it to this application.`);
      }
      log(403);
      const { body, headers } = forbiddenBody(kind);
      sendRaw(res, 403, body, { ...ids, ...headers });
    };
    try {
      const body = JSON.parse(raw) as { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } };
      cmdlet = String(body.CmdletInput?.CmdletName ?? '');
      parameters = (body.CmdletInput?.Parameters ?? {}) as Record<string, Json>;
    } catch {
      return fail(400, 'BadRequest', 'The request body is not valid JSON.');
    }
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/i.exec(auth)?.[1];
    const grant = token ? this.tokens.get(token) : undefined;
    if (!grant || grant.expires < Date.now()) return unauthorized();
    if (grant.tenantId !== tenantId) return unauthorized();
    // A token for another cloud's Exchange (or for Graph) has the wrong audience.
    if (grant.scope !== this.exchangeScope && grant.scope !== this.exchangeScope.replace('/.default', '/Exchange.Manage')) return unauthorized();
    // App-only tokens route by the tenant's system mailbox, delegated ones by the admin's own.
    const expectedAnchor = grant.upn ? `UPN:${grant.upn}` : `APP:SystemMailbox{${SYSTEM_MAILBOX_GUID}}@${tenantPath}`;
    if ((req.headers['x-anchormailbox'] ?? '') !== expectedAnchor) {
      return fail(400, 'BadRequest', `The X-AnchorMailbox header must be ${expectedAnchor}.`, 'Microsoft.Exchange.Management.AdminApiProvider.AnchorMailboxException');
    }
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return fail(404, 'NotFound', `Tenant ${tenantPath} has no Exchange Online organization.`);
    if (!tenant.exchangeRole) return forbidden(tenant.forbiddenBody);
    const denied = tenant.deniedCmdlets.get(cmdlet.toLowerCase());
    if (denied) return forbidden(denied);
    // A cmdlet that does not exist is refused like one the app may not run (DrollRobot/azure-auth, measured).
    if (!knownCmdlet(cmdlet)) return forbidden('undecodable');
    const throttle = this.throttleQueue.shift();
    if (throttle) {
      if (throttle.concurrency) {
        return fail(429, 'TooManyRequests', 'Too many concurrent requests.', 'Microsoft.Exchange.Management.AdminApiProvider.Throttling.ThrottlingException', 'The request was rejected because there are too many concurrent requests for this application. MaxConcurrency reached, retry later.');
      }
      const status = throttle.status ?? 429;
      const headers = { 'Retry-After': String(throttle.retryAfterSeconds ?? 1) };
      return reply(
        status,
        status === 429
          ? { error: { code: 'TooManyRequests', message: 'Too many requests. Please retry after some time.', details: [] } }
          : { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.', details: [] } },
        headers,
      );
    }
    const insideOk = this.errorsInsideOk.shift();
    if (insideOk) {
      // The cmdlet is not carried out; the answer is a 200 that says so (shape: a GUESS).
      const text = insideOk.text ?? `Ex3A1F07|Microsoft.Exchange.Management.Tasks.TaskException|The operation on '${String(parameters.Identity ?? parameters.Name ?? cmdlet)}' could not be completed. The change was not saved.`;
      const errorBody =
        insideOk.form === 'error'
          ? { error: { code: 'BadRequest', message: 'Error executing cmdlet', details: [{ code: 'Client', target: '', message: text }] } }
          : { 'adminapi.errors@odata.type': '#Collection(String)', '@adminapi.errors': [text] };
      return reply(
        200,
        {
          '@odata.context': `${this.exchangeUrl}/adminapi/beta/${tenantPath}/$metadata#Collection(Exchange.GenericHashTable)`,
          'adminapi.warnings@odata.type': '#Collection(String)',
          '@adminapi.warnings': [],
          ...errorBody,
          value: [],
        },
        {},
        { failedInside: true },
      );
    }
    try {
      const { values, warnings } = this.run(tenant, cmdlet, parameters);
      // Prefer: odata.maxpagesize=N sets the page size, up to the service's own limit; without
      // it a smaller default page (its size is a GUESS).
      const preferred = /odata\.maxpagesize=(\d+)/i.exec(prefer ?? '')?.[1];
      const pageSize = Math.max(1, Math.min(this.pageSize, preferred ? Number(preferred) : 100));
      const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
      const page = values.slice(skip, skip + pageSize);
      const out: Record<string, unknown> = {
        '@odata.context': `${this.exchangeUrl}/adminapi/beta/${tenantPath}/$metadata#Collection(Exchange.GenericHashTable)`,
        'adminapi.warnings@odata.type': '#Collection(String)',
        '@adminapi.warnings': [...warnings, ...(this.warningsQueue.shift() ?? [])],
        value: page,
      };
      if (this.repeatingNextLink && /^Get-/i.test(cmdlet)) {
        // The same link on every page: a client that follows it blindly never stops.
        out['@odata.nextLink'] = `${this.exchangeUrl}/adminapi/beta/${tenantPath}/InvokeCommand?$skiptoken=${Math.min(pageSize, values.length)}`;
      } else if (skip + pageSize < values.length) {
        out['@odata.nextLink'] = `${this.exchangeUrl}/adminapi/beta/${tenantPath}/InvokeCommand?$skiptoken=${skip + pageSize}`;
      }
      reply(200, out);
    } catch (err) {
      if (!(err instanceof CmdletError)) throw err;
      fail(err.status, err.status === 404 ? 'NotFound' : 'BadRequest', err.message, err.exceptionClass, err.message);
    }
  }

  /**
   * A recipient by any of its identities, as Get-Recipient -Identity resolves them (Get-Recipient.md):
   * name, alias, display name, DN, GUID, or any of its addresses (the secondary `smtp:` ones too).
   */
  private findRecipient(tenant: FakeTenant, identity: string): FakeRecipient | undefined {
    const id = identity.toLowerCase().replace(/^smtp:/, '');
    return tenant.recipients.find((r) =>
      [r.Name, r.Alias, r.DisplayName, r.PrimarySmtpAddress, r.Guid, r.ExternalDirectoryObjectId, r.DistinguishedName, ...(r.EmailAddresses ?? []).map((a) => a.replace(/^smtp:/i, ''))]
        .some((v) => v !== undefined && v.toLowerCase() === id),
    );
  }

  private recipientRecord(r: FakeRecipient): FakeRecord {
    const { EmailAddresses, ...rest } = r;
    return { ...rest, EmailAddresses: [...(EmailAddresses ?? [])], Identity: r.Name };
  }

  /** The read-only RBAC for Applications cmdlets; undefined for any other cmdlet. */
  private runRbacCmdlet(tenant: FakeTenant, cmdlet: string, rawParams: Record<string, Json>): FakeRecord[] | undefined {
    const allowed: Record<string, readonly string[]> = {
      'get-serviceprincipal': ['identity', 'organization'],
      'get-managementscope': ['identity', 'exclusive', 'orphan'],
      'get-managementroleassignment': ['identity', 'role', 'roleassignee', 'roleassigneetype', 'enabled', 'customresourcescope'],
    };
    const names = allowed[cmdlet.toLowerCase()];
    if (!names) return undefined;
    const unknown = Object.keys(rawParams).find((k) => !names.includes(k.toLowerCase()));
    if (unknown) throw new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${unknown}'.`);
    const param = (name: string): string | undefined => {
      const v = Object.entries(rawParams).find(([k]) => k.toLowerCase() === name)?.[1];
      return v === undefined || v === null ? undefined : String(v);
    };
    const notFound = (identity: string): CmdletError =>
      new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The operation couldn't be performed because object '${identity}' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.PROD.OUTLOOK.COM'.`);
    const principal = (sp: FakeServicePrincipal): FakeRecord => ({ AppId: sp.AppId, ObjectId: sp.ObjectId, ServiceId: sp.ObjectId, DisplayName: sp.DisplayName, Identity: sp.ObjectId, Name: sp.ObjectId });
    switch (cmdlet.toLowerCase()) {
      case 'get-serviceprincipal': {
        const id = param('identity')?.toLowerCase();
        const all = tenant.servicePrincipals.filter((sp) => !id || [sp.AppId, sp.ObjectId, sp.DisplayName].some((v) => v.toLowerCase() === id));
        if (id && all.length === 0) throw notFound(param('identity')!);
        return all.map(principal);
      }
      case 'get-managementscope': {
        const id = param('identity')?.toLowerCase();
        const all = tenant.managementScopes.filter((s) => !id || s.Name.toLowerCase() === id);
        if (id && all.length === 0) throw notFound(param('identity')!);
        return all.map((s) => ({ Name: s.Name, Identity: s.Name, RecipientFilter: s.RecipientRestrictionFilter, RecipientRoot: null, ScopeRestrictionType: 'RecipientScope', Exclusive: false }));
      }
      default: {
        const role = param('role')?.toLowerCase();
        const assignee = param('roleassignee')?.toLowerCase();
        return tenant.roleAssignments
          .filter((a) => !role || a.Role.toLowerCase() === role)
          .map((a) => ({ a, sp: tenant.servicePrincipals.find((sp) => sp.AppId.toLowerCase() === a.App.toLowerCase()) }))
          .filter(({ sp }) => !assignee || (sp !== undefined && [sp.AppId, sp.ObjectId, sp.DisplayName].some((v) => v.toLowerCase() === assignee)))
          .map(({ a, sp }) => ({
            Name: a.Name,
            Identity: a.Name,
            Role: a.Role,
            RoleAssignee: sp?.DisplayName ?? a.App,
            RoleAssigneeName: sp?.DisplayName ?? a.App,
            RoleAssigneeType: 'ServicePrincipal',
            AssignmentMethod: 'Direct',
            CustomResourceScope: a.CustomResourceScope ?? null,
            RecipientWriteScope: a.CustomResourceScope ? 'CustomRecipientScope' : 'Organization',
            Enabled: a.Enabled ?? true,
          }));
      }
    }
  }

  /** Runs one cmdlet: its output and the warnings it wrote. */
  private run(tenant: FakeTenant, cmdlet: string, rawParams: Record<string, Json>): { values: FakeRecord[]; warnings: string[] } {
    const warnings: string[] = [];
    const values = this.runCmdlet(tenant, cmdlet, rawParams, (w) => warnings.push(w));
    return { values, warnings };
  }

  private runCmdlet(tenant: FakeTenant, cmdlet: string, rawParams: Record<string, Json>, warn: (warning: string) => void): FakeRecord[] {
    if (/^Get-Recipient$/i.test(cmdlet)) {
      const unknown = Object.keys(rawParams).find((k) => !['identity', 'resultsize'].includes(k.toLowerCase()));
      if (unknown) throw new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${unknown}'.`);
      const identity = Object.entries(rawParams).find(([k]) => k.toLowerCase() === 'identity')?.[1];
      if (identity === undefined) return tenant.recipients.map((r) => this.recipientRecord(r));
      const r = this.findRecipient(tenant, String(identity));
      if (!r) {
        throw new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The operation couldn't be performed because object '${String(identity)}' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.PROD.OUTLOOK.COM'.`);
      }
      return [this.recipientRecord(r)];
    }
    if (/^Get-AcceptedDomain$/i.test(cmdlet)) {
      const unknown = Object.keys(rawParams).find((k) => !['identity', 'resultsize'].includes(k.toLowerCase()));
      if (unknown) throw new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${unknown}'.`);
      return tenant.acceptedDomains.map((d) => ({
        Name: d.DomainName,
        Identity: d.DomainName,
        DomainName: d.DomainName,
        DomainType: d.DomainType ?? 'Authoritative',
        Default: d.Default ?? false,
        MatchSubDomains: d.MatchSubDomains ?? false,
      }));
    }
    const rbac = this.runRbacCmdlet(tenant, cmdlet, rawParams);
    if (rbac) return rbac;
    const schema = cmdletSchema(cmdlet);
    if (!schema) {
      throw new CmdletError(400, 'System.Management.Automation.CommandNotFoundException', `The term '${cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program.`);
    }
    // PowerShell binds parameter names case-insensitively.
    const params: Record<string, Json> = {};
    for (const [k, v] of Object.entries(rawParams)) {
      const name = Object.keys(schema.params).find((p) => p.toLowerCase() === k.toLowerCase());
      if (!name) {
        throw new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${k}'.`);
      }
      params[name] = this.coerce(name, schema.params[name]!, v);
    }
    const { verb, kind } = schema;
    const store = tenant.stores[kind];
    const find = (identity: Json | undefined, visibleOnly: boolean): Entry | undefined => {
      const id = String(identity ?? '').toLowerCase();
      return store.find((e) => {
        const r = visibleOnly ? e.visible : e.committed;
        return r && (String(r.Name).toLowerCase() === id || String(r.Guid).toLowerCase() === id || String(r.Identity).toLowerCase() === id);
      });
    };
    const notFound = (identity: Json | undefined): CmdletError =>
      new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The operation couldn't be performed because object '${String(identity)}' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.PROD.OUTLOOK.COM'.`);
    const write = (entry: Entry, record: FakeRecord | undefined): void => {
      entry.committed = record;
      if (this.lag.calls > 0 || this.lag.ms > 0) {
        entry.visibleIn = this.lag.calls;
        entry.visibleAt = Date.now() + this.lag.ms;
      } else entry.visible = record;
    };
    // Every call is a moment later: replication catches up step by step.
    for (const k of ['OutboundConnector', 'InboundConnector', 'TransportRule'] as const) {
      for (const e of tenant.stores[k]) {
        if (e.visible === e.committed) continue;
        if (e.visibleIn > 0) e.visibleIn--;
        if (e.visibleIn === 0 && Date.now() >= e.visibleAt) e.visible = e.committed;
      }
    }

    switch (verb) {
      case 'Get': {
        let visible = store.filter((e) => e.visible).map((e) => this.echo(kind, e.visible!));
        if (kind === 'OutboundConnector') {
          // Get-OutboundConnector.md: without -IncludeTestModeConnectors (or $false) connectors in
          // test mode are left out; with $true only those are returned.
          const testMode = params.IncludeTestModeConnectors === true;
          visible = visible.filter((r) => (r.TestMode === true) === testMode);
          if (params.IsTransportRuleScoped !== undefined) visible = visible.filter((r) => (r.IsTransportRuleScoped === true) === params.IsTransportRuleScoped);
        }
        if (params.Identity !== undefined) {
          const e = find(params.Identity, true);
          if (!e) throw notFound(params.Identity);
          return [this.echo(kind, e.visible!)];
        }
        return kind === 'TransportRule' ? visible.sort((a, b) => Number(a.Priority) - Number(b.Priority)) : visible;
      }
      case 'New': {
        const name = params.Name;
        if (typeof name !== 'string' || !name) throw new CmdletError(400, 'System.Management.Automation.ParameterBindingException', "Cannot process command because of one or more missing mandatory parameters: Name.");
        if (find(name, false)) {
          throw new CmdletError(400, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectAlreadyExistsException', `A ${kind === 'TransportRule' ? 'transport rule' : kind === 'OutboundConnector' ? 'outbound connector' : 'inbound connector'} with the name '${name}' already exists.`);
        }
        const record = this.complete(kind, this.resolveRecipients(tenant, { ...params }), tenant);
        this.validate(tenant, kind, record);
        const entry: Entry = { committed: undefined, visible: undefined, visibleIn: 0, visibleAt: 0 };
        store.push(entry);
        write(entry, record);
        if (kind === 'TransportRule') this.placeRule(tenant, entry, params.Priority);
        return [this.echo(kind, record)];
      }
      case 'Set': {
        const entry = find(params.Identity, false);
        if (!entry) throw notFound(params.Identity);
        const { Identity: _i, ...changes } = params;
        const resolved = this.resolveRecipients(tenant, changes);
        if (Object.entries(resolved).every(([k, v]) => JSON.stringify(entry.committed![k] ?? null) === JSON.stringify(v))) {
          // Exchange's warning for a Set- that changes nothing (nothing is written).
          warn(`The command completed successfully but no settings of '${String(entry.committed!.Name)}' have been modified.`);
          return [];
        }
        const record: FakeRecord = { ...entry.committed!, ...resolved, WhenChanged: new Date().toISOString() };
        if (changes.Name !== undefined) record.Identity = changes.Name;
        this.validate(tenant, kind, record);
        write(entry, record);
        if (kind === 'TransportRule' && changes.Priority !== undefined) this.placeRule(tenant, entry, changes.Priority);
        return [];
      }
      case 'Remove': {
        const entry = find(params.Identity, false);
        if (!entry) throw notFound(params.Identity);
        if (kind === 'OutboundConnector') {
          // Checked against what this replica sees: a rule removed a moment ago still counts
          // until its removal has replicated (setReplicationLag). The text is a GUESS.
          const user = tenant.stores.TransportRule.find(
            (e) => e.visible && String(e.visible.RouteMessageOutboundConnector ?? '').toLowerCase() === String(entry.committed!.Name).toLowerCase(),
          );
          if (user) {
            throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.OutboundConnectorInUseException', `The outbound connector '${String(entry.committed!.Name)}' is used by transport rule '${String(user.visible!.Name)}' and can't be removed.`);
          }
        }
        write(entry, undefined);
        if (kind === 'TransportRule') this.renumber(tenant);
        return [];
      }
      case 'Enable':
      case 'Disable': {
        const entry = find(params.Identity, false);
        if (!entry) throw notFound(params.Identity);
        write(entry, { ...entry.committed!, State: verb === 'Enable' ? 'Enabled' : 'Disabled', WhenChanged: new Date().toISOString() });
        return [];
      }
    }
    throw new Error(`unhandled verb ${verb}`);
  }

  /**
   * Rule conditions on recipients keep the recipient, shown by its Name (or primary address,
   * `groupEcho`), whatever identity was given: a secondary proxy address reads back as the primary.
   */
  private resolveRecipients(tenant: FakeTenant, params: FakeRecord): FakeRecord {
    for (const key of ['FromMemberOf', 'SentTo']) {
      const v = params[key];
      if (Array.isArray(v)) params[key] = v.map((x) => this.findRecipient(tenant, String(x))?.[this.groupEcho] ?? String(x));
    }
    return params;
  }

  private coerce(name: string, type: ParamType, v: Json): Json {
    const bad = (): CmdletError =>
      new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `Cannot bind parameter '${name}'. Cannot convert value "${JSON.stringify(v)}" to the type required by the parameter.`);
    if (v === null) {
      if (typeof type === 'object' && !type.nullable) throw bad();
      return null;
    }
    if (type === 'bool') {
      if (typeof v !== 'boolean') throw bad();
      return v;
    }
    if (type === 'int') {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad();
      return v;
    }
    if (type === 'strings') {
      if (typeof v === 'string') return [v];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad();
      return v;
    }
    if (type === 'size') {
      const bytes = toBytes(v);
      if (bytes === undefined) throw bad();
      return bytes;
    }
    if (type === 'string') {
      if (typeof v !== 'string') throw bad();
      return v;
    }
    if (typeof v !== 'string') throw bad();
    const match = type.enum.find((e) => e.toLowerCase() === v.toLowerCase());
    if (!match) throw bad();
    return match;
  }

  private complete(kind: Kind, record: FakeRecord, tenant: FakeTenant): FakeRecord {
    const name = String(record.Name ?? '');
    const now = new Date().toISOString();
    const common = { Identity: name, Guid: randomUUID(), WhenCreated: now, WhenChanged: now, OrganizationId: tenant.id };
    if (kind === 'TransportRule') {
      const { Enabled, ...rest } = record;
      return { Mode: 'Enforce', SenderAddressLocation: 'Header', StopRuleProcessing: false, Priority: 0, ...common, ...rest, State: Enabled === false ? 'Disabled' : 'Enabled' };
    }
    return { Enabled: true, ...common, ...record };
  }

  private validate(tenant: FakeTenant, kind: Kind, r: FakeRecord): void {
    const invalid = (text: string): CmdletError => new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.ConnectorValidationException', text);
    if (kind === 'OutboundConnector') {
      if (r.UseMXRecord === false && !(Array.isArray(r.SmartHosts) && r.SmartHosts.length)) throw invalid('SmartHosts must be specified when UseMXRecord is false.');
      if (r.TlsSettings === 'DomainValidation' && !r.TlsDomain) throw invalid('TlsDomain must be specified when TlsSettings is DomainValidation.');
    }
    if (kind === 'InboundConnector' && r.ConnectorType === 'OnPremises') {
      if (!r.TlsSenderCertificateName && !(Array.isArray(r.SenderIPAddresses) && r.SenderIPAddresses.length)) {
        throw invalid('An on-premises inbound connector needs SenderIPAddresses or TlsSenderCertificateName.');
      }
    }
    if (kind === 'TransportRule' && typeof r.RouteMessageOutboundConnector === 'string') {
      // Resolved against what this replica already sees: a connector created a moment ago may be missing.
      const target = r.RouteMessageOutboundConnector.toLowerCase();
      const seen = tenant.stores.OutboundConnector.some((e) => e.visible && String(e.visible.Name).toLowerCase() === target);
      if (!seen) {
        throw new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The outbound connector '${r.RouteMessageOutboundConnector}' couldn't be found.`);
      }
    }
  }

  /** Rule priorities are contiguous 0..n-1; inserting at p shifts the rules below. */
  private placeRule(tenant: FakeTenant, entry: Entry, priority: Json | undefined): void {
    const store = tenant.stores.TransportRule;
    const others = store.filter((e) => e !== entry && e.committed).sort((a, b) => Number(a.committed!.Priority) - Number(b.committed!.Priority));
    const p = typeof priority === 'number' ? Math.max(0, Math.min(priority, others.length)) : others.length;
    others.splice(p, 0, entry);
    others.forEach((e, i) => {
      if (e.committed && e.committed.Priority !== i) {
        e.committed = { ...e.committed, Priority: i };
        if (e.visible !== undefined && e.visibleIn === 0 && Date.now() >= e.visibleAt) e.visible = e.committed;
      }
    });
  }

  private renumber(tenant: FakeTenant): void {
    const live = tenant.stores.TransportRule.filter((e) => e.committed).sort((a, b) => Number(a.committed!.Priority) - Number(b.committed!.Priority));
    live.forEach((e, i) => {
      if (e.committed!.Priority !== i) {
        e.committed = { ...e.committed!, Priority: i };
        if (e.visible !== undefined && e.visibleIn === 0 && Date.now() >= e.visibleAt) e.visible = e.committed;
      }
    });
  }

  /** How Get- shows a stored object: sizes and address spaces in Exchange's own formats. */
  private echo(kind: Kind, r: FakeRecord): FakeRecord {
    const out: FakeRecord = { ...r };
    if (kind === 'TransportRule' && typeof r.ExceptIfMessageSizeOver === 'number') out.ExceptIfMessageSizeOver = sizeEcho(r.ExceptIfMessageSizeOver);
    if (kind === 'InboundConnector' && Array.isArray(r.SenderDomains)) out.SenderDomains = r.SenderDomains.map((d) => `smtp:${String(d)};1`);
    return out;
  }
}

/** Writes `key + cert` PEM into a temp file, the way SIGOPS_CLIENT_CERTIFICATE expects it. */
export function writeClientCertificate(dir: string): { path: string; cert: string } {
  const { key, cert } = selfSignedCertificate('sigops-test-client');
  const path = join(dir, 'client.pem');
  writeFileSync(path, `${key}${cert}`);
  return { path, cert };
}
