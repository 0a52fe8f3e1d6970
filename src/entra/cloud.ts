// Where Microsoft's clouds live for sigops: per cloud, the Entra login host and, for each service
// sigops calls, its URL and the token scope for it. The one place these endpoints are written:
// a tenant names its cloud (`cloud:` in its tenant file) and every client takes its endpoints and
// token scopes from here. A token is issued for one cloud's resource and is refused by another
// cloud's service, so the scope must follow the cloud even when a URL is overridden (tests).
//
// Sources (Microsoft): the endpoint table of microsoft/CSS-Exchange
// (Shared/AzureFunctions/Get-CloudServiceEndpoint.ps1: Global, USGovernmentL4 = GCC High,
// USGovernmentL5 = DoD, ChinaCloud), Microsoft Graph national cloud deployments
// (https://learn.microsoft.com/graph/deployments), and the Microsoft 365 DoD endpoints list
// (https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints),
// which names outlook-dod.office365.us (and the older webmail.apps.mil) for Exchange Online.
// GCC ("GCC moderate") tenants live in the worldwide cloud: same endpoints as `global`.

/** The clouds sigops supports, as the tenant file's `cloud:` names them. */
export const CLOUD_NAMES = ['global', 'gcc', 'gcc-high', 'dod', 'china'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

/** The endpoints of one Microsoft cloud. */
export interface MicrosoftCloud {
  readonly name: CloudName;
  /** What it is, for messages and docs. */
  readonly description: string;
  /** Entra ID's login host (the token authority is `<loginUrl>/<tenant id>`). */
  readonly loginUrl: string;
  /** Exchange Online: the admin API's host and the scope of tokens for it. */
  readonly exchangeUrl: string;
  readonly exchangeScope: string;
  /** Microsoft Graph: its host and the scope of tokens for it. */
  readonly graphUrl: string;
  readonly graphScope: string;
}

function cloud(name: CloudName, description: string, loginUrl: string, exchangeUrl: string, graphUrl: string): MicrosoftCloud {
  // A service's URL is also the resource its tokens are issued for: `<url>/.default`.
  return Object.freeze({
    name,
    description,
    loginUrl,
    exchangeUrl,
    exchangeScope: `${exchangeUrl}/.default`,
    graphUrl,
    graphScope: `${graphUrl}/.default`,
  });
}

export const CLOUDS: Readonly<Record<CloudName, MicrosoftCloud>> = Object.freeze({
  global: cloud('global', 'the worldwide (commercial) Microsoft cloud', 'https://login.microsoftonline.com', 'https://outlook.office365.com', 'https://graph.microsoft.com'),
  gcc: cloud('gcc', 'Microsoft 365 GCC (moderate), served by the worldwide cloud', 'https://login.microsoftonline.com', 'https://outlook.office365.com', 'https://graph.microsoft.com'),
  'gcc-high': cloud('gcc-high', 'Microsoft 365 GCC High (US Government L4)', 'https://login.microsoftonline.us', 'https://outlook.office365.us', 'https://graph.microsoft.us'),
  dod: cloud('dod', 'Microsoft 365 DoD (US Government L5)', 'https://login.microsoftonline.us', 'https://outlook-dod.office365.us', 'https://dod-graph.microsoft.us'),
  china: cloud('china', 'Microsoft 365 operated by 21Vianet (China)', 'https://login.partner.microsoftonline.cn', 'https://partner.outlook.cn', 'https://microsoftgraph.chinacloudapi.cn'),
});

export const DEFAULT_CLOUD: CloudName = 'global';

/** The endpoints of a cloud; `undefined` is the worldwide cloud. */
export function cloudEndpoints(name: CloudName | undefined): MicrosoftCloud {
  return CLOUDS[name ?? DEFAULT_CLOUD];
}

/** The worldwide (commercial) Microsoft cloud. */
export const PUBLIC_CLOUD: MicrosoftCloud = CLOUDS.global;

export const DEFAULT_LOGIN_URL = PUBLIC_CLOUD.loginUrl;
export const DEFAULT_EXCHANGE_URL = PUBLIC_CLOUD.exchangeUrl;
export const EXCHANGE_SCOPE = PUBLIC_CLOUD.exchangeScope;
export const DEFAULT_GRAPH_URL = PUBLIC_CLOUD.graphUrl;
export const GRAPH_SCOPE = PUBLIC_CLOUD.graphScope;

/** Login hosts msal-node already knows (no instance discovery needed), every cloud's. */
export const MICROSOFT_LOGIN_HOSTS: ReadonlySet<string> = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
]);
