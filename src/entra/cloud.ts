// Where Microsoft's cloud lives for sigops: the Entra login host and, for each service sigops
// calls, its URL and the token scope for it. The one place these defaults are written, so
// another national cloud is one more entry here rather than edits across the clients.

/** The endpoints of one Microsoft cloud. */
export interface MicrosoftCloud {
  /** Entra ID's login host (the token authority is `<loginUrl>/<tenant id>`). */
  readonly loginUrl: string;
  /** Exchange Online: the admin API's host and the scope of tokens for it. */
  readonly exchangeUrl: string;
  readonly exchangeScope: string;
  /** Microsoft Graph: its host and the scope of tokens for it. */
  readonly graphUrl: string;
  readonly graphScope: string;
}

/** The worldwide (commercial) Microsoft cloud. */
export const PUBLIC_CLOUD: MicrosoftCloud = Object.freeze({
  loginUrl: 'https://login.microsoftonline.com',
  exchangeUrl: 'https://outlook.office365.com',
  exchangeScope: 'https://outlook.office365.com/.default',
  graphUrl: 'https://graph.microsoft.com',
  graphScope: 'https://graph.microsoft.com/.default',
});

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
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
]);
