// The cmdlets sigops runs, one function each, so the parameters sent are in one place.
import type { ExchangeClient, ExchangeRecord, ExchangeValue } from './client.ts';
import { ObjectNotFoundError } from './errors.ts';
import type { DesiredObject, ObjectKind } from './desired.ts';

/** Every object of a kind in the tenant (all pages). */
export function listObjects(client: ExchangeClient, kind: ObjectKind): Promise<ExchangeRecord[]> {
  return client.invoke(`Get-${kind}`, {});
}

export async function createObject(client: ExchangeClient, desired: DesiredObject): Promise<void> {
  const params: Record<string, ExchangeValue> = { Name: desired.name };
  // New- cmdlets start from empty values: a cleared (null) parameter is simply not sent.
  for (const [k, v] of Object.entries(desired.params)) if (v !== null) params[k] = v;
  // New-TransportRule has -Enabled (Set-TransportRule does not): a paused tenant's rule is born disabled.
  if (desired.kind === 'TransportRule') params.Enabled = desired.enabled ?? true;
  await client.invoke(`New-${desired.kind}`, params);
}

export async function updateObject(
  client: ExchangeClient,
  kind: ObjectKind,
  name: string,
  changed: Readonly<Record<string, ExchangeValue>>,
): Promise<void> {
  await client.invoke(`Set-${kind}`, { Identity: name, ...changed });
}

export async function removeObject(client: ExchangeClient, kind: ObjectKind, name: string): Promise<void> {
  await client.invoke(`Remove-${kind}`, { Identity: name, Confirm: false });
}

export async function setRuleEnabled(client: ExchangeClient, name: string, enabled: boolean): Promise<void> {
  if (enabled) await client.invoke('Enable-TransportRule', { Identity: name });
  else await client.invoke('Disable-TransportRule', { Identity: name, Confirm: false });
}

/** Names under which Exchange may show a recipient (rule conditions echo the Name, not the address). */
export async function recipientNames(client: ExchangeClient, identity: string): Promise<string[] | undefined> {
  try {
    const [r] = await client.invoke('Get-Recipient', { Identity: identity });
    if (!r) return undefined;
    return ['Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'Identity', 'Guid']
      .map((k) => r[k])
      .filter((v): v is string => typeof v === 'string' && v !== '');
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}
