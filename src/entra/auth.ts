// App-only authentication against Entra ID with @azure/msal-node, for every Microsoft cloud
// service sigops calls (Exchange Online, Microsoft Graph): client secret, client certificate, or
// a GitHub Actions OIDC token sent as client assertion (workload identity federation); plus the
// interactive device-code sign-in of `sigops login`. Credentials come from the environment only,
// never from the config repo.
import { readFile } from 'node:fs/promises';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { AuthError, ConfidentialClientApplication, PublicClientApplication, type Configuration } from '@azure/msal-node';
import { DEFAULT_LOGIN_URL, EXCHANGE_SCOPE, MICROSOFT_LOGIN_HOSTS } from './cloud.ts';
import { AuthenticationError, CredentialsError } from './errors.ts';
import { HttpsNetworkClient } from './msal-network.ts';

export type Credentials =
  | { readonly kind: 'secret'; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: 'certificate'; readonly clientId: string; readonly certificatePath: string }
  | {
      readonly kind: 'github-oidc';
      readonly clientId: string;
      readonly requestUrl: string; // ACTIONS_ID_TOKEN_REQUEST_URL
      readonly requestToken: string; // ACTIONS_ID_TOKEN_REQUEST_TOKEN
    };

/**
 * Reads the credentials from the environment. Precedence when several are set:
 * certificate, then secret, then the GitHub Actions OIDC token.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  const clientId = env.SIGOPS_CLIENT_ID?.trim();
  if (!clientId) throw new CredentialsError('SIGOPS_CLIENT_ID is not set (the application id of the Entra app registration)');
  if (env.SIGOPS_CLIENT_CERTIFICATE) return { kind: 'certificate', clientId, certificatePath: env.SIGOPS_CLIENT_CERTIFICATE };
  if (env.SIGOPS_CLIENT_SECRET) return { kind: 'secret', clientId, clientSecret: env.SIGOPS_CLIENT_SECRET };
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    return {
      kind: 'github-oidc',
      clientId,
      requestUrl: env.ACTIONS_ID_TOKEN_REQUEST_URL,
      requestToken: env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    };
  }
  throw new CredentialsError(
    'no credential: set SIGOPS_CLIENT_SECRET or SIGOPS_CLIENT_CERTIFICATE, or run in GitHub Actions with id-token: write',
  );
}

export interface TokenProvider {
  /** A bearer token for the provider's resource (Exchange Online by default) in this tenant (cached and renewed by msal). */
  getToken(tenantId: string): Promise<string>;
}

export interface AuthOptions {
  readonly loginUrl?: string; // SIGOPS_LOGIN_URL
  readonly credentials: Credentials;
  /** Extra trusted CA (PEM) for the login endpoint; production uses the system store. */
  readonly ca?: string;
  /** Resource to get tokens for (`<resource>/.default`). Default Exchange Online; `sigops directory sync` asks for Graph. */
  readonly scope?: string;
}

/** The certificate file as msal wants it: SHA-256 and SHA-1 thumbprints (hex) and the private key. */
export interface ClientCertificate {
  readonly thumbprintSha256: string;
  readonly thumbprint: string;
  readonly privateKey: string;
  readonly x5c: string;
}

export async function readClientCertificate(path: string): Promise<ClientCertificate> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new CredentialsError(`cannot read SIGOPS_CLIENT_CERTIFICATE ${path}: ${(err as Error).message}`);
  }
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!key || !cert) {
    throw new CredentialsError(`SIGOPS_CLIENT_CERTIFICATE ${path} must hold an unencrypted private key and its certificate (PEM)`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    // msal wants PKCS#8; convert whatever PEM flavour was given.
    const pkcs8 = createPrivateKey(key).export({ format: 'pem', type: 'pkcs8' }).toString();
    if (!x509.checkPrivateKey(createPrivateKey(pkcs8))) throw new Error('the private key does not belong to the certificate');
    return {
      thumbprintSha256: x509.fingerprint256.replaceAll(':', '').toLowerCase(),
      thumbprint: x509.fingerprint.replaceAll(':', '').toLowerCase(),
      privateKey: pkcs8,
      x5c: cert,
    };
  } catch (err) {
    if (err instanceof CredentialsError) throw err;
    throw new CredentialsError(`SIGOPS_CLIENT_CERTIFICATE ${path}: ${(err as Error).message}`);
  }
}

/** Asks GitHub Actions for the workflow's OIDC token, audience Entra's token exchange. */
export async function fetchGitHubOidcToken(requestUrl: string, requestToken: string): Promise<string> {
  const url = `${requestUrl}${requestUrl.includes('?') ? '&' : '?'}audience=${encodeURIComponent('api://AzureADTokenExchange')}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { Authorization: `bearer ${requestToken}`, Accept: 'application/json' } });
  } catch (err) {
    throw new CredentialsError(`cannot reach the GitHub Actions OIDC endpoint: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { value?: unknown };
  if (!res.ok || typeof body.value !== 'string') {
    throw new CredentialsError(
      `GitHub Actions refused the OIDC token request (HTTP ${res.status}): give the workflow \`permissions: id-token: write\``,
    );
  }
  return body.value;
}

function authorityOptions(loginUrl: string, tenantId: string): Pick<Configuration['auth'], 'authority' | 'knownAuthorities'> {
  const base = loginUrl.replace(/\/+$/, '');
  const host = new URL(base).host;
  // For Microsoft's own hosts msal knows the cloud already; for any other (sovereign proxy,
  // test fake) declaring it a known authority makes msal read its OpenID configuration from
  // that host instead of asking login.microsoftonline.com for instance discovery.
  return {
    authority: `${base}/${tenantId}`,
    ...(MICROSOFT_LOGIN_HOSTS.has(host) ? {} : { knownAuthorities: [host] }),
  };
}

function systemOptions(ca: string | undefined): Configuration['system'] {
  return ca ? { networkClient: new HttpsNetworkClient(ca) } : {};
}

function toAuthenticationError(tenantId: string, err: unknown): Error {
  if (err instanceof AuthError) {
    const code = /AADSTS\d+/.exec(err.errorMessage)?.[0] ?? err.errorCode;
    // msal wraps Entra's text in "Error(s): … - Description: AADSTSn: text Trace ID: …": keep the text.
    const described = /AADSTS\d+:\s*([\s\S]*?)(?:\s*Trace ID:|\s+- Correlation ID:|$)/.exec(err.errorMessage)?.[1];
    const text = described?.trim() || err.errorMessage.split(/\r?\n/)[0] || err.errorCode;
    return new AuthenticationError(tenantId, `cannot get a token for tenant ${tenantId}: ${text}`, code);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Token provider for app-only access (client credentials grant), one msal app per tenant. */
export function createTokenProvider(options: AuthOptions): TokenProvider {
  const loginUrl = options.loginUrl ?? DEFAULT_LOGIN_URL;
  const scope = options.scope ?? EXCHANGE_SCOPE;
  const apps = new Map<string, Promise<ConfidentialClientApplication>>();
  const cred = options.credentials;
  let certificate: Promise<ClientCertificate> | undefined;

  async function build(tenantId: string): Promise<ConfidentialClientApplication> {
    const auth: Configuration['auth'] = { clientId: cred.clientId, ...authorityOptions(loginUrl, tenantId) };
    if (cred.kind === 'secret') auth.clientSecret = cred.clientSecret;
    else if (cred.kind === 'certificate') {
      certificate ??= readClientCertificate(cred.certificatePath);
      const c = await certificate;
      auth.clientCertificate = { thumbprintSha256: c.thumbprintSha256, privateKey: c.privateKey, x5c: c.x5c };
    } else {
      // A callback, so msal asks GitHub for a fresh assertion whenever it needs a new token.
      auth.clientAssertion = () => fetchGitHubOidcToken(cred.requestUrl, cred.requestToken);
    }
    return new ConfidentialClientApplication({ auth, system: systemOptions(options.ca) });
  }

  return {
    async getToken(tenantId: string): Promise<string> {
      let app = apps.get(tenantId);
      if (!app) {
        app = build(tenantId);
        apps.set(tenantId, app);
        app.catch(() => apps.delete(tenantId));
      }
      try {
        const result = await (await app).acquireTokenByClientCredential({ scopes: [scope] });
        if (!result?.accessToken) throw new AuthenticationError(tenantId, `no token returned for tenant ${tenantId}`);
        return result.accessToken;
      } catch (err) {
        throw toAuthenticationError(tenantId, err);
      }
    },
  };
}

export interface DeviceCodeLoginOptions {
  readonly loginUrl?: string;
  /** The Exchange Online scope of the tenant's cloud (default the worldwide one's). */
  readonly scope?: string;
  readonly clientId: string;
  readonly tenantId: string;
  readonly ca?: string;
  /** Receives the "To sign in, use a web browser to open … and enter the code …" message. */
  readonly onCode: (message: string) => void;
}

/**
 * Interactive first set-up: an administrator signs in with the device-code flow (delegated
 * access, the app registration must allow public client flows). Returns the token and account.
 */
export async function loginWithDeviceCode(options: DeviceCodeLoginOptions): Promise<{ accessToken: string; account: string }> {
  const app = new PublicClientApplication({
    auth: { clientId: options.clientId, ...authorityOptions(options.loginUrl ?? DEFAULT_LOGIN_URL, options.tenantId) },
    system: systemOptions(options.ca),
  });
  try {
    const result = await app.acquireTokenByDeviceCode({
      scopes: [options.scope ?? EXCHANGE_SCOPE],
      deviceCodeCallback: (response) => options.onCode(response.message),
    });
    if (!result?.accessToken) throw new AuthenticationError(options.tenantId, 'the sign-in returned no token');
    return { accessToken: result.accessToken, account: result.account?.username ?? '(unknown account)' };
  } catch (err) {
    throw toAuthenticationError(options.tenantId, err);
  }
}
