// The cmdlets sigops runs, one function each, so the parameters sent are in one place. Writes
// return the warnings Exchange wrote, for the apply report.
import type { ExchangeClient, ExchangeRecord, ExchangeValue } from './client.ts';
import { ObjectNotFoundError } from './errors.ts';
import type { DesiredObject, ObjectKind } from './desired.ts';

/**
 * Every object of a kind in the tenant (all pages). Get-OutboundConnector leaves out connectors
 * in test mode unless asked with `-IncludeTestModeConnectors $true`, which then returns only
 * those (MicrosoftDocs/office-docs-powershell, exchange/exchange-ps/exchange/Get-OutboundConnector.md):
 * both are read, or a test-mode "sigops outbound" would look absent and be created twice.
 */
export async function listObjects(client: ExchangeClient, kind: ObjectKind): Promise<ExchangeRecord[]> {
  if (kind !== 'OutboundConnector') return client.invoke(`Get-${kind}`, {});
  const [live, testMode] = await Promise.all([
    client.invoke('Get-OutboundConnector', {}),
    client.invoke('Get-OutboundConnector', { IncludeTestModeConnectors: true }),
  ]);
  // Should a service version return every connector for $true, each is still listed once.
  const key = (r: ExchangeRecord): string => String(r.Guid ?? r.Identity ?? r.Name ?? '').toLowerCase();
  const seen = new Set(live.map(key));
  return [...live, ...testMode.filter((r) => !seen.has(key(r)))];
}

/** Warnings Exchange wrote while running a write cmdlet (usually none). */
export type Warnings = readonly string[];

export async function createObject(client: ExchangeClient, desired: DesiredObject): Promise<Warnings> {
  const params: Record<string, ExchangeValue> = { Name: desired.name };
  // New- cmdlets start from empty values: a cleared (null) parameter is simply not sent.
  for (const [k, v] of Object.entries(desired.params)) if (v !== null) params[k] = v;
  // New-TransportRule has -Enabled (Set-TransportRule does not): a paused tenant's rule is born disabled.
  if (desired.kind === 'TransportRule') params.Enabled = desired.enabled ?? true;
  return (await client.run(`New-${desired.kind}`, params)).warnings;
}

export async function updateObject(
  client: ExchangeClient,
  kind: ObjectKind,
  name: string,
  changed: Readonly<Record<string, ExchangeValue>>,
): Promise<Warnings> {
  return (await client.run(`Set-${kind}`, { Identity: name, ...changed })).warnings;
}

export async function removeObject(client: ExchangeClient, kind: ObjectKind, name: string): Promise<Warnings> {
  return (await client.run(`Remove-${kind}`, { Identity: name, Confirm: false })).warnings;
}

export async function setRuleEnabled(client: ExchangeClient, name: string, enabled: boolean): Promise<Warnings> {
  if (enabled) return (await client.run('Enable-TransportRule', { Identity: name })).warnings;
  return (await client.run('Disable-TransportRule', { Identity: name, Confirm: false })).warnings;
}

/** Names under which Exchange may show a recipient (rule conditions echo the Name, not the address). */
export async function recipientNames(client: ExchangeClient, identity: string): Promise<string[] | undefined> {
  const r = await findRecipient(client, identity);
  if (!r) return undefined;
  return ['Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'Identity', 'Guid']
    .map((k) => r[k])
    .filter((v): v is string => typeof v === 'string' && v !== '');
}

/**
 * The stable identity of a recipient (a group named in a rule condition), whatever it was given
 * as: its name, alias, primary or secondary (proxy) address, or GUID. Get-Recipient -Identity
 * takes any of these (Get-Recipient.md, -Identity). The Entra object id comes first, then
 * Exchange's own GUID, then the distinguished name. Undefined when there is no such recipient.
 */
export async function recipientIdentity(client: ExchangeClient, identity: string): Promise<string | undefined> {
  const r = await findRecipient(client, identity);
  if (!r) return undefined;
  for (const key of ['ExternalDirectoryObjectId', 'Guid', 'DistinguishedName']) {
    const v = r[key];
    if (typeof v === 'string' && v !== '') return `${key}:${v.toLowerCase()}`;
  }
  return undefined;
}

async function findRecipient(client: ExchangeClient, identity: string): Promise<ExchangeRecord | undefined> {
  try {
    const [r] = await client.invoke('Get-Recipient', { Identity: identity });
    return r;
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}
