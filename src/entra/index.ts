// Microsoft Entra: app-only authentication and the HTTP plumbing every Microsoft cloud client of
// sigops (Exchange Online, Microsoft Graph) shares, plus where those services live.
export {
  DEFAULT_EXCHANGE_URL,
  DEFAULT_GRAPH_URL,
  DEFAULT_LOGIN_URL,
  EXCHANGE_SCOPE,
  GRAPH_SCOPE,
  PUBLIC_CLOUD,
  type MicrosoftCloud,
} from './cloud.ts';
export { AuthenticationError, CredentialsError } from './errors.ts';
export {
  createTokenProvider,
  credentialsFromEnv,
  fetchGitHubOidcToken,
  loginWithDeviceCode,
  readClientCertificate,
  type AuthOptions,
  type ClientCertificate,
  type Credentials,
  type DeviceCodeLoginOptions,
  type TokenProvider,
} from './auth.ts';
export {
  DEFAULT_RETRY,
  ServiceConnection,
  isBusyStatus,
  parseRetryAfter,
  readJsonBody,
  realSleep,
  retryDelay,
  type ErrorAnswer,
  type JsonObject,
  type RetryPolicy,
  type ServiceCall,
  type ServiceConnectionOptions,
  type ServiceErrors,
  type Sleep,
} from './http.ts';
