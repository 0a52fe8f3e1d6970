// Typed errors of the Exchange Online client. Every error carries what an admin needs to act:
// the cmdlet, the service's own codes and a piece of advice.
import { SigopsError, type RequestReference } from '../errors/index.ts';

/** Any error of the Exchange Online client; `code` is the service's own (AADSTS…, error code, HTTP status). */
export abstract class ExchangeError extends SigopsError {}

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
    /** The call that failed (client-request-id sent, request-id answered). */
    request?: RequestReference;
  }) {
    super(`${fields.cmdlet}: ${fields.detail ?? fields.message}`, {
      code: fields.code ?? (fields.status > 0 ? String(fields.status) : 'exchange-request-failed'),
      advice: fields.advice ?? adviceForApiError(fields.status, fields.cmdlet, fields.exceptionClass, fields.detail ?? fields.message),
      ...(fields.request ? { request: fields.request } : {}),
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
/** 403: the app has no Exchange role in the tenant, or none that lets it run this cmdlet. */
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
/**
 * Remove-OutboundConnector while a transport rule still routes to the connector: also what
 * Exchange answers for a while after the rule was removed, until the removal has replicated.
 */
export class ConnectorInUseError extends ExchangeApiError {
  override readonly name = 'ConnectorInUseError';
}

/** Whether an exception class or text says "the connector is still used by a rule". */
export function isConnectorInUse(exceptionClass: string | undefined, text: string): boolean {
  return /InUse/i.test(exceptionClass ?? '') || /\b(is (being )?used by|in use by|referenced by)\b.*\b(transport|mail flow) rule/i.test(text);
}

function adviceForApiError(status: number, cmdlet: string, exceptionClass: string | undefined, text: string): string {
  if (status === 401)
    return (
      'Exchange refused the token: grant the app the Exchange.ManageAsApp application permission of "Office 365 Exchange Online" and admin consent, ' +
      "and check `cloud:` in the tenant file: a token for one Microsoft cloud's Exchange (e.g. outlook.office365.com) is refused by another's (outlook.office365.us)."
    );
  if (status === 403)
    return (
      `The app may not run ${cmdlet} in this tenant: assign the Exchange Administrator role to the app's service principal ` +
      '(Entra admin center > Roles & admins); a narrower role must include the transport rule, connector and recipient cmdlets sigops runs.'
    );
  if (status === 429 || status === 503 || status === 504)
    return 'Exchange Online is throttling or busy: run again later, or plan fewer tenants at once (--tenant).';
  if (exceptionClass === 'ManagementObjectNotFoundException')
    return 'The object is missing, perhaps just created and not replicated yet, or removed by someone else: plan again.';
  if (exceptionClass === 'ManagementObjectAlreadyExistsException')
    return 'An object with this name already exists: if it is not managed by sigops, rename it or add the sigops marker to adopt it.';
  if (exceptionClass === 'ParameterBindingException' || /cannot be found that matches parameter name/i.test(text))
    return 'sigops sent a parameter this cmdlet does not accept: this is a bug in sigops, please report it.';
  if (isConnectorInUse(exceptionClass, text))
    return 'A transport rule still routes to this connector (or its removal has not replicated yet): remove the rule first, or run apply again in a few minutes.';
  return 'See the Exchange error above; plan again to see the current state.';
}
