// The queue's replacer for real tenants: one MailboxClient per tenant, on the Graph of the
// tenant's cloud, with app-only tokens from the same credentials as the rest of sigops
// (SIGOPS_CLIENT_ID and a secret, certificate or OIDC token), read when the first job runs.
import type { Logger } from '../log/index.ts';
import { CLOUD_NAMES, cloudEndpoints, createTokenProvider, credentialsFromEnv, type CloudName, type Credentials, type Sleep, type TokenProvider } from '../entra/index.ts';
import { MailboxClient } from './mailbox.ts';
import type { Replacer } from './queue.ts';
import { replaceSentItem } from './replace.ts';

export interface GraphReplacerOptions {
  /** SIGOPS_GRAPH_URL: overrides every tenant's Graph URL (tests, a proxy). */
  readonly graphUrl?: string;
  /** SIGOPS_LOGIN_URL */
  readonly loginUrl?: string;
  readonly credentials?: Credentials;
  /** Replaces msal (tests). */
  readonly tokens?: TokenProvider;
  readonly fetch?: typeof fetch;
  readonly sleep?: Sleep;
  readonly logger?: Logger;
}

export function graphReplacer(o: GraphReplacerOptions = {}): Replacer {
  const clients = new Map<string, MailboxClient>();
  const providers = new Map<CloudName, TokenProvider>();
  const tokensFor = (cloud: CloudName): TokenProvider => {
    if (o.tokens) return o.tokens;
    let p = providers.get(cloud);
    if (!p) {
      const endpoints = cloudEndpoints(cloud);
      p = createTokenProvider({ credentials: o.credentials ?? credentialsFromEnv(), scope: endpoints.graphScope, loginUrl: o.loginUrl ?? endpoints.loginUrl });
      providers.set(cloud, p);
    }
    return p;
  };
  return async (job, readCopy) => {
    const cloud = CLOUD_NAMES.find((c) => c === job.cloud) ?? 'global';
    let client = clients.get(job.tenantId);
    if (!client) {
      // a missing credential throws here: the job is retried (authentication) until it expires
      client = new MailboxClient({
        tenantId: job.tenantId,
        tokens: tokensFor(cloud),
        graphUrl: o.graphUrl ?? cloudEndpoints(cloud).graphUrl,
        ...(o.fetch ? { fetch: o.fetch } : {}),
        ...(o.sleep ? { sleep: o.sleep } : {}),
        ...(o.logger ? { logger: o.logger } : {}),
      });
      clients.set(job.tenantId, client);
    }
    return replaceSentItem(job, readCopy, client);
  };
}
