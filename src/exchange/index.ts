// Exchange Online: the InvokeCommand client, the objects sigops manages, and a connector that
// hands out clients per tenant. Authentication and the HTTP plumbing are in src/entra.
import {
  DEFAULT_EXCHANGE_URL,
  EXCHANGE_SCOPE,
  createTokenProvider,
  credentialsFromEnv,
  realSleep,
  type Credentials,
  type RetryPolicy,
  type Sleep,
  type TokenProvider,
} from '../entra/index.ts';
import { ExchangeClient } from './client.ts';

export * from './errors.ts';
export { ExchangeClient, type CmdletParameters, type ExchangeClientOptions, type ExchangeRecord, type ExchangeValue } from './client.ts';
export * from './desired.ts';
export * from './objects.ts';
export * from './accepted-domains.ts';

/** How to reach Exchange Online; everything optional has a production default. */
export interface ExchangeOptions {
  readonly exchangeUrl?: string; // default https://outlook.office365.com
  readonly loginUrl?: string; // default https://login.microsoftonline.com
  /** Default: read from the environment when the first tenant is contacted. */
  readonly credentials?: Credentials;
  /** Replaces msal entirely (tests of the plan logic, or a token obtained elsewhere). */
  readonly tokens?: TokenProvider;
  /** Extra trusted CA (PEM) for the login endpoint. */
  readonly ca?: string;
  readonly retry?: RetryPolicy;
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
}

/** SIGOPS_EXCHANGE_URL / SIGOPS_LOGIN_URL overrides (docs/exchange.md, "Environment"). Credentials are read lazily. */
export function exchangeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ExchangeOptions {
  return {
    exchangeUrl: env.SIGOPS_EXCHANGE_URL || DEFAULT_EXCHANGE_URL,
    ...(env.SIGOPS_LOGIN_URL ? { loginUrl: env.SIGOPS_LOGIN_URL } : {}),
  };
}

/** Hands out one client per tenant, sharing one token provider. */
export class ExchangeConnector {
  private tokens: TokenProvider | undefined;
  constructor(private readonly options: ExchangeOptions = {}) {}

  /** Throws CredentialsError when the environment holds no usable credentials. */
  tokenProvider(): TokenProvider {
    this.tokens ??=
      this.options.tokens ??
      createTokenProvider({
        credentials: this.options.credentials ?? credentialsFromEnv(),
        scope: EXCHANGE_SCOPE,
        ...(this.options.loginUrl ? { loginUrl: this.options.loginUrl } : {}),
        ...(this.options.ca ? { ca: this.options.ca } : {}),
      });
    return this.tokens;
  }

  /** How this connector waits (injected in tests, real time otherwise). */
  get sleep(): Sleep {
    return this.options.sleep ?? realSleep;
  }

  client(tenantId: string): ExchangeClient {
    return new ExchangeClient({
      tenantId,
      tokens: this.tokenProvider(),
      ...(this.options.exchangeUrl ? { exchangeUrl: this.options.exchangeUrl } : {}),
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
  }
}
