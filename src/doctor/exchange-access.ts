// Checks: what the app may do in the tenant's Exchange Online, found out without changing
// anything. The access token's `roles` claim lists the application permissions Entra granted
// (an app-only token carries them there; one without any has no `roles` claim at all); then
// read-only cmdlets show whether Exchange lets the app in (a 403 means no Exchange role).
// Whether the role also allows writes (New-/Set-/Remove-) cannot be proven without writing:
// the doctor says so rather than pretend.
import type { Tenant } from '../model/index.ts';
import { describeError } from '../errors/index.ts';
import type { TokenProvider } from '../entra/index.ts';
import {
  ForbiddenError,
  UnauthorizedError,
  acceptedDomainFindings,
  listAcceptedDomains,
  type AcceptedDomain,
  type ExchangeClient,
} from '../exchange/index.ts';
import type { Outcome, Problem } from './types.ts';

/**
 * Application permissions of Office 365 Exchange Online that let an app run cmdlets:
 * Exchange.ManageAsApp (Exchange Online PowerShell, the one docs/exchange.md sets up) and
 * Exchange.ManageAsAppV2, which Microsoft's Admin API documentation names for app-only access.
 */
export const EXCHANGE_APP_PERMISSIONS: readonly string[] = ['Exchange.ManageAsApp', 'Exchange.ManageAsAppV2'];

/** The cmdlets the doctor runs: all read-only, the ones plan and apply depend on. */
export const READ_CMDLETS: readonly string[] = ['Get-AcceptedDomain', 'Get-OutboundConnector', 'Get-InboundConnector', 'Get-TransportRule'];

/** The claims of a JWT access token, not verified (it was just issued to us; nothing is decided on trust). */
export function tokenClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface ExchangeAccessOutcome {
  readonly permission: Outcome;
  readonly role: Outcome;
  readonly acceptedDomains: Outcome;
}

const PERMISSION_ADVICE =
  'In the app registration: API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions → Exchange.ManageAsApp, then Grant admin consent for the tenant (docs/exchange.md).';

/**
 * Runs the three Exchange checks of one tenant. `tokens` throws CredentialsError or
 * AuthenticationError when there is no token to be had: that becomes the permission finding.
 */
export async function checkExchangeAccess(tenant: Tenant, tokens: () => TokenProvider, client: () => ExchangeClient): Promise<ExchangeAccessOutcome> {
  let token: string;
  try {
    token = await tokens().getToken(tenant.id);
  } catch (err) {
    const e = describeError(err);
    const problem: Problem = {
      severity: 'error',
      code: e.code ?? 'token',
      message: `no token for Exchange Online in tenant ${tenant.id}: ${e.message}`,
      advice: e.advice ?? 'Check SIGOPS_CLIENT_ID and the credential (docs/exchange.md).',
    };
    const why = 'needs a token for Exchange Online (see app-permission)';
    return { permission: { summary: '', problems: [problem] }, role: { summary: why, problems: [], skipped: true }, acceptedDomains: { summary: why, problems: [], skipped: true } };
  }

  const permission = permissionOutcome(tenant, tokenClaims(token));
  const exchange = client();
  const answers = new Map<string, { ok: true } | { ok: false; error: unknown }>();
  let accepted: AcceptedDomain[] | undefined;
  for (const cmdlet of READ_CMDLETS) {
    try {
      if (cmdlet === 'Get-AcceptedDomain') accepted = await listAcceptedDomains(exchange);
      // One read per cmdlet is what the role check needs (plan also reads test-mode connectors).
      else await exchange.invoke(cmdlet, {});
      answers.set(cmdlet, { ok: true });
    } catch (err) {
      answers.set(cmdlet, { ok: false, error: err });
    }
  }
  const role = roleOutcome(answers);
  const acceptedDomains: Outcome = accepted
    ? {
        summary: `accepted domains: ${accepted.map((d) => d.domain).join(', ')}; ${tenant.domains.join(', ')} and certificateDomain ${tenant.exchange.certificateDomain} are among them`,
        problems: acceptedDomainFindings(tenant, accepted).map(({ severity, code, message, advice }) => ({ severity, code, message, advice })),
      }
    : { summary: 'Get-AcceptedDomain did not answer (see exchange-role)', problems: [], skipped: true };
  return { permission, role, acceptedDomains };
}

function permissionOutcome(tenant: Tenant, claims: Record<string, unknown> | undefined): Outcome {
  if (!claims) {
    return { summary: 'got a token, but it is not a JWT whose claims can be read: the cmdlets below show whether Exchange accepts it', problems: [], skipped: true };
  }
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  const granted = roles.find((r) => EXCHANGE_APP_PERMISSIONS.includes(r));
  if (granted) {
    return { summary: `the app-only token carries the application permission ${granted}`, problems: [] };
  }
  if (typeof claims.scp === 'string') {
    return {
      summary: '',
      problems: [
        {
          severity: 'error',
          code: 'delegated-token',
          message: `the token is delegated (scp: ${claims.scp}), not app-only: plan and apply need app-only access`,
          advice: 'Use app-only credentials: SIGOPS_CLIENT_SECRET, SIGOPS_CLIENT_CERTIFICATE or the GitHub Actions OIDC token (docs/exchange.md).',
        },
      ],
    };
  }
  return {
    summary: '',
    problems: [
      {
        severity: 'error',
        code: 'permission-missing',
        message: `the token for tenant ${tenant.id} carries no Exchange.ManageAsApp application permission (roles: ${roles.length > 0 ? roles.join(', ') : 'none'}): Exchange Online refuses the app`,
        advice: PERMISSION_ADVICE,
      },
    ],
  };
}

function roleOutcome(answers: ReadonlyMap<string, { ok: true } | { ok: false; error: unknown }>): Outcome {
  const failed = [...answers].filter((a): a is [string, { ok: false; error: unknown }] => !a[1].ok);
  if (failed.length === 0) {
    return {
      summary: `${READ_CMDLETS.join(', ')} answered (the app can read). Whether it may change objects cannot be proven without changing something: sigops apply is the test`,
      problems: [],
    };
  }
  const forbidden = failed.filter(([, a]) => a.error instanceof ForbiddenError);
  const unauthorized = failed.filter(([, a]) => a.error instanceof UnauthorizedError);
  const problems: Problem[] = [];
  if (forbidden.length > 0) {
    problems.push({
      severity: 'error',
      code: 'exchange-role-missing',
      message: `Exchange Online answered 403 to ${forbidden.map(([c]) => c).join(', ')}: the app has no Exchange role in this tenant`,
      // Refused everything: no role at all. Refused some: the error names the cmdlet the role lacks.
      advice: forbidden.length === READ_CMDLETS.length
        ? "The app has no Exchange role: assign the Exchange Administrator role to the app's service principal in this tenant."
        : (describeError(forbidden[0]![1].error).advice ?? ''),
    });
  }
  if (unauthorized.length > 0) {
    problems.push({
      severity: 'error',
      code: 'exchange-token-refused',
      message: `Exchange Online refused the token (401) for ${unauthorized.map(([c]) => c).join(', ')}`,
      advice: describeError(unauthorized[0]![1].error).advice ?? PERMISSION_ADVICE,
    });
  }
  for (const [cmdlet, a] of failed) {
    if (a.error instanceof ForbiddenError || a.error instanceof UnauthorizedError) continue;
    const e = describeError(a.error);
    problems.push({
      severity: 'error',
      code: e.code ?? 'exchange-error',
      message: `${cmdlet} failed: ${e.message}`,
      advice: e.advice ?? 'Run the doctor again; if it persists, see the Exchange error above.',
    });
  }
  return { summary: '', problems };
}
