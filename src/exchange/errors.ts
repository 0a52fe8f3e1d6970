// Typed errors of the Exchange Online client. Every error carries what an admin needs to act:
// the cmdlet, the service's own codes and a piece of advice.
import { SigopsError } from '../errors/index.ts';

/** Any error of the Exchange Online client; `code` is the service's own (AADSTS…, error code, HTTP status). */
export abstract class ExchangeError extends SigopsError {}

/** No usable credentials in the environment. */
export class CredentialsError extends ExchangeError {
  override readonly name = 'CredentialsError';
  constructor(message: string) {
    super(message, {
      code: 'credentials',
      advice:
        'Set SIGOPS_CLIENT_ID and one of SIGOPS_CLIENT_SECRET, SIGOPS_CLIENT_CERTIFICATE (PEM with key and certificate) ' +
        'or run inside GitHub Actions with `permissions: id-token: write`. See docs/exchange.md.',
    });
  }
}

/** The token endpoint refused us (bad secret, unknown app, no consent …). */
export class AuthenticationError extends ExchangeError {
  override readonly name = 'AuthenticationError';
  readonly tenantId: string;
  /** `code` is the AADSTS code when Entra gave one, else `authentication`. */
  constructor(tenantId: string, message: string, code?: string) {
    super(message, { code: code ?? 'authentication', advice: adviceForAadsts(code, message) });
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
  if (/AADSTS65001|AADSTS7000112/.test(text))
    return 'Admin consent is missing: an administrator of the tenant must grant consent to the app (Exchange.ManageAsApp).';
  return 'Check SIGOPS_CLIENT_ID and the credential, and that the app is consented in this tenant (docs/exchange.md).';
}

/**
 * An answer of the InvokeCommand endpoint that is an error. `code` is the service's error code,
 * else the HTTP status, else `exchange-request-failed` (no answer to read one from).
 */
export class ExchangeApiError extends ExchangeError {
  override readonly name: string = 'ExchangeApiError';
  readonly status: number;
  readonly cmdlet: string;
  readonly errId: string | undefined;
  readonly exceptionClass: string | undefined;
  readonly detail: string | undefined;
  constructor(fields: {
    status: number;
    cmdlet: string;
    code?: string;
    message: string;
    errId?: string;
    exceptionClass?: string;
    detail?: string;
    advice?: string;
  }) {
    super(`${fields.cmdlet}: ${fields.detail ?? fields.message}`, {
      code: fields.code ?? (fields.status > 0 ? String(fields.status) : 'exchange-request-failed'),
      advice: fields.advice ?? adviceForApiError(fields.status, fields.exceptionClass, fields.detail ?? fields.message),
    });
    this.status = fields.status;
    this.cmdlet = fields.cmdlet;
    this.errId = fields.errId;
    this.exceptionClass = fields.exceptionClass;
    this.detail = fields.detail;
  }
}

/** 401: the token was not accepted by Exchange. */
export class UnauthorizedError extends ExchangeApiError {
  override readonly name = 'UnauthorizedError';
}
/** 403: the app has no Exchange role in the tenant. */
export class ForbiddenError extends ExchangeApiError {
  override readonly name = 'ForbiddenError';
}
/** The object named by -Identity does not exist. */
export class ObjectNotFoundError extends ExchangeApiError {
  override readonly name = 'ObjectNotFoundError';
}
/** New-… with a name that is taken. */
export class ObjectExistsError extends ExchangeApiError {
  override readonly name = 'ObjectExistsError';
}
/** A parameter the cmdlet does not have (e.g. Set-TransportRule -Enabled). A bug in sigops. */
export class UnknownParameterError extends ExchangeApiError {
  override readonly name = 'UnknownParameterError';
}
/** Still throttled after every retry. */
export class ThrottledError extends ExchangeApiError {
  override readonly name = 'ThrottledError';
}

function adviceForApiError(status: number, exceptionClass: string | undefined, text: string): string {
  if (status === 401)
    return 'Exchange refused the token: grant the app the Exchange.ManageAsApp application permission of "Office 365 Exchange Online" and admin consent.';
  if (status === 403)
    return "The app has no Exchange role: assign the Exchange Administrator role to the app's service principal in this tenant.";
  if (status === 429 || status === 503 || status === 504)
    return 'Exchange Online is throttling or busy: run again later, or plan fewer tenants at once (--tenant).';
  if (exceptionClass === 'ManagementObjectNotFoundException')
    return 'The object is missing, perhaps just created and not replicated yet, or removed by someone else: plan again.';
  if (exceptionClass === 'ManagementObjectAlreadyExistsException')
    return 'An object with this name already exists: if it is not managed by sigops, rename it or add the sigops marker to adopt it.';
  if (exceptionClass === 'ParameterBindingException' || /cannot be found that matches parameter name/i.test(text))
    return 'sigops sent a parameter this cmdlet does not accept: this is a bug in sigops, please report it.';
  return 'See the Exchange error above; plan again to see the current state.';
}
