// Exchange Online: the InvokeCommand client, the objects sigops manages, and a connector that
// hands out clients per tenant, each for the tenant's Microsoft cloud. Authentication and the
// HTTP plumbing are in src/entra.
import type { Logger } from '../log/index.ts';
import {
  cloudEndpoints,
  createTokenProvider,
  credentialsFromEnv,
  realSleep,
  type CloudName,
  type Credentials,
  type RetryPolicy,
  type Sleep,
  type TokenProvider,
} from '../entra/index.ts';
import { ExchangeClient } from './client.ts';

export * from './errors.ts';
export {
  ExchangeClient,
  PAGE_SIZE,
  type CmdletParameters,
  type CmdletResult,
  type ExchangeClientOptions,
  type ExchangeRecord,
  type ExchangeValue,
} from './client.ts';
export * from './desired.ts';
export * from './objects.ts';
export * from './accepted-domains.ts';
export * from './failover-marker.ts';
export * from './rbac.ts';

/** How to reach Exchange Online; everything optional has a production default. */
export interface ExchangeOptions {
  /**
   * Overrides every tenant's Exchange URL (tests, a proxy). Default: the URL of the tenant's
   * cloud. The token scope always follows the tenant's cloud.
   */
  readonly exchangeUrl?: string;
  /** Overrides every tenant's login URL. Default: the login host of the tenant's cloud. */
  readonly loginUrl?: string;
  /** Default: read from the environment when the first tenant is contacted. */
  readonly credentials?: Credentials;
  /** Replaces msal entirely (tests of the plan logic, or a token obtained elsewhere). */
  readonly tokens?: TokenProvider;
  /** Extra trusted CA (PEM) for the login endpoint. */
  readonly ca?: string;
  readonly retry?: RetryPolicy;
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
  /** Failed requests (with their client-request-id) and Exchange's warnings are logged here. */
  readonly logger?: Logger;
}

/**
 * SIGOPS_EXCHANGE_URL / SIGOPS_LOGIN_URL overrides (docs/exchange.md, "Environment"); without
 * them every tenant uses its cloud's endpoints. Credentials are read lazily.
 */
export function exchangeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ExchangeOptions {
  return {
    ...(env.SIGOPS_EXCHANGE_URL ? { exchangeUrl: env.SIGOPS_EXCHANGE_URL } : {}),
    ...(env.SIGOPS_LOGIN_URL ? { loginUrl: env.SIGOPS_LOGIN_URL } : {}),
  };
}

/** Hands out one client per tenant; one token provider per cloud (its login host and Exchange scope). */
export class ExchangeConnector {
  private readonly tokens = new Map<CloudName, TokenProvider>();
  private credentials: Credentials | undefined;
  constructor(private readonly options: ExchangeOptions = {}) {}

  /** Throws CredentialsError when the environment holds no usable credentials. */
  tokenProvider(cloud?: CloudName): TokenProvider {
    if (this.options.tokens) return this.options.tokens;
    const endpoints = cloudEndpoints(cloud);
    let provider = this.tokens.get(endpoints.name);
    if (!provider) {
      this.credentials ??= this.options.credentials ?? credentialsFromEnv();
      provider = createTokenProvider({
        credentials: this.credentials,
        scope: endpoints.exchangeScope,
        loginUrl: this.options.loginUrl ?? endpoints.loginUrl,
        ...(this.options.ca ? { ca: this.options.ca } : {}),
      });
      this.tokens.set(endpoints.name, provider);
    }
    return provider;
  }

  /** How this connector waits (injected in tests, real time otherwise). */
  get sleep(): Sleep {
    return this.options.sleep ?? realSleep;
  }

  /** A client for one tenant of the given cloud (default the worldwide one). */
  client(tenantId: string, cloud?: CloudName): ExchangeClient {
    return new ExchangeClient({
      tenantId,
      tokens: this.tokenProvider(cloud),
      exchangeUrl: this.options.exchangeUrl ?? cloudEndpoints(cloud).exchangeUrl,
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
  }
}
