// Errors of app-only authentication against Entra ID, shared by every Microsoft cloud client:
// no usable credentials, or the token endpoint refused us (with advice for its AADSTS code).
import { SigopsError } from '../errors/index.ts';

const CREDENTIALS_ADVICE =
  'Set SIGOPS_CLIENT_ID and one of SIGOPS_CLIENT_SECRET, SIGOPS_CLIENT_CERTIFICATE (PEM with key and certificate) ' +
  'or run inside GitHub Actions with `permissions: id-token: write`. See docs/exchange.md.';

/** No usable credentials in the environment. */
export class CredentialsError extends SigopsError {
  override readonly name = 'CredentialsError';
  constructor(message: string) {
    super(message, { code: 'credentials', advice: CREDENTIALS_ADVICE });
  }
}

/** The token endpoint refused us (bad secret, unknown app, no consent …). */
export class AuthenticationError extends SigopsError {
  override readonly name = 'AuthenticationError';
  readonly tenantId: string;
  /** `code`: Entra's AADSTS code when known, else msal's error code, else 'authentication'. */
  constructor(tenantId: string, message: string, code?: string) {
    super(message, { code: code || 'authentication', advice: adviceForAadsts(code, message) });
    this.tenantId = tenantId;
  }
}

function adviceForAadsts(code: string | undefined, message: string): string {
  const text = `${code ?? ''} ${message}`;
  if (/AADSTS7000215|AADSTS7000222/.test(text))
    return 'The client secret is wrong or expired: create a new one in the app registration and update SIGOPS_CLIENT_SECRET.';
  if (/AADSTS700016/.test(text))
    return 'The app (SIGOPS_CLIENT_ID) is not known in this tenant: check the id, and that an admin of this tenant consented to it.';
  if (/AADSTS700027|AADSTS700024|AADSTS7000274/.test(text))
    return 'The client certificate or assertion was refused: upload the certificate (public part) to the app registration, or check its expiry.';
  if (/AADSTS70021|AADSTS700213|AADSTS700211/.test(text))
    return 'No matching federated credential: add one for this repository and branch/pull_request (subject repo:OWNER/REPO:…).';
  if (/AADSTS90002|AADSTS90023/.test(text))
    return 'The tenant id is wrong or the tenant does not exist: check `id:` in the tenant file.';
  if (/AADSTS500011/.test(text))
    return (
      "This tenant's Entra ID does not know the service asked for: check `cloud:` in the tenant file (GCC High and DoD tenants " +
      'sign in at login.microsoftonline.us for outlook.office365.us or outlook-dod.office365.us), and that the app is consented in this tenant.'
    );
  if (/AADSTS65001|AADSTS7000112/.test(text))
    return 'Admin consent is missing: an administrator of the tenant must grant consent to the app (Exchange.ManageAsApp).';
  return 'Check SIGOPS_CLIENT_ID and the credential, and that the app is consented in this tenant (docs/exchange.md).';
}
