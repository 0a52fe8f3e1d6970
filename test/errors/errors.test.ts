// Every typed error sigops raises is a SigopsError with a stable code and advice: the CLI and
// the Action print any of them through one path (formatError) and decide on `code`, never on
// the class name. New error classes in src/ must be added to EXAMPLES below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SigopsError, describeError, formatError, formatErrorSummary } from '../../src/errors/index.ts';
import { ConfigError, ConfigInvalidError, ConfigWarning } from '../../src/config/errors.ts';
import { AuthenticationError, CredentialsError } from '../../src/entra/errors.ts';
import { DirectorySyncError, GraphError, GraphPermissionError } from '../../src/directory/errors.ts';
import { MailboxError } from '../../src/sent-items/errors.ts';
import {
  ConnectorInUseError,
  ExchangeApiError,
  ForbiddenError,
  ObjectExistsError,
  ObjectNotFoundError,
  ThrottledError,
  UnauthorizedError,
  UnknownParameterError,
} from '../../src/exchange/errors.ts';
import { PLAN_ERROR_CODE, SafetyLimitError, StalePlanError, UnknownTenantError } from '../../src/plan/errors.ts';
import { RelayError, deliveryError } from '../../src/relay/errors.ts';
import { ActionInputError } from '../../src/github/env.ts';
import { GitHubApiError } from '../../src/github/client.ts';
import { TemplateCompileError } from '../../src/signature/template.ts';
import { NoTenantError } from '../../src/mime/chooser.ts';
import { DoctorOptionError } from '../../src/doctor/errors.ts';
import { FailoverSettingsError, RuleNotManagedError } from '../../src/failover/errors.ts';

const api = { status: 500, cmdlet: 'Get-TransportRule', message: 'boom' };

/** One instance of every concrete error class in src/, by class name. */
const EXAMPLES: Record<string, () => SigopsError> = {
  ConfigError: () => new ConfigError('tenants/a.yaml', 3, 5, 'unknown-key', "unknown key 'x'"),
  ConfigWarning: () => new ConfigWarning('templates/t.html.hbs', 1, 1, 'unused-template', 'unused'),
  ConfigInvalidError: () => new ConfigInvalidError('/c', [{ file: 'a.yaml', line: 1, col: 2, code: 'x', message: 'bad' }], []),
  CredentialsError: () => new CredentialsError('SIGOPS_CLIENT_ID is not set'),
  AuthenticationError: () => new AuthenticationError('t', 'refused', 'AADSTS7000215'),
  ExchangeApiError: () => new ExchangeApiError(api),
  UnauthorizedError: () => new UnauthorizedError({ ...api, status: 401 }),
  ForbiddenError: () => new ForbiddenError({ ...api, status: 403 }),
  ObjectNotFoundError: () => new ObjectNotFoundError({ ...api, exceptionClass: 'ManagementObjectNotFoundException' }),
  ObjectExistsError: () => new ObjectExistsError({ ...api, exceptionClass: 'ManagementObjectAlreadyExistsException' }),
  UnknownParameterError: () => new UnknownParameterError({ ...api, exceptionClass: 'ParameterBindingException' }),
  ThrottledError: () => new ThrottledError({ ...api, status: 429, code: '429' }),
  ConnectorInUseError: () => new ConnectorInUseError({ ...api, status: 400, cmdlet: 'Remove-OutboundConnector', exceptionClass: 'OutboundConnectorInUseException' }),
  UnknownTenantError: () => new UnknownTenantError('nobody'),
  StalePlanError: () => new StalePlanError('a'.repeat(64), 'b'.repeat(64)),
  SafetyLimitError: () => new SafetyLimitError(['contoso', 'fabrikam'], 1),
  RelayError: () => new RelayError(550, '5.7.1', 'Relaying denied', 'tenant-unknown'),
  ActionInputError: () => new ActionInputError('input "prune" must be true or false', 'prune'),
  GitHubApiError: () => new GitHubApiError('list the comments of pull request #1', 404, 'Not Found', 'Not found: …'),
  TemplateCompileError: () => new TemplateCompileError([{ line: 1, col: 3, message: 'unknown helper', code: 'unknown-helper' }]),
  MailboxError: () => new MailboxError({ status: 403, graphCode: 'ErrorAccessDenied', message: 'GET /v1.0/users/alice@contoso.com/mailFolders/sentitems/messages: HTTP 403 ErrorAccessDenied: Access is denied.' }),
  GraphError: () => new GraphError({ status: 500, code: 'generalException', message: 'boom', url: 'https://graph.example/v1.0/users' }),
  GraphPermissionError: () => new GraphPermissionError({ status: 403, code: 'Authorization_RequestDenied', message: 'denied', url: 'https://graph.example/v1.0/users' }),
  NoTenantError: () => new NoTenantError('bob@elsewhere.example', 'elsewhere.example', ['contoso.com']),
  DirectorySyncError: () => new DirectorySyncError('not-graph', 'tenant contoso reads its directory from a file'),
  DoctorOptionError: () => new DoctorOptionError('--connect-to x is not HOST:PORT:ADDRESS:PORT', 'Write it as curl does.'),
  FailoverSettingsError: () => new FailoverSettingsError('no --health URL given', "Give the relay fleet's /healthz URLs."),
  RuleNotManagedError: () => new RuleNotManagedError('sigops route'),
};


function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

test('every exported error class in src/ extends SigopsError and has an example here', async () => {
  const found: string[] = [];
  for (const file of sources('src')) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /^\s*class \w+ extends Error\b/m, `${file}: a private Error class; extend SigopsError`);
    const declared = [...text.matchAll(/^export (abstract )?class (\w+) extends \w+/gm)];
    if (declared.length === 0) continue;
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [, abstract, name] of declared) {
      const cls = mod[name!];
      if (typeof cls !== 'function' || !(cls.prototype instanceof Error) || name === 'SigopsError') continue;
      found.push(name!);
      assert.ok(cls.prototype instanceof SigopsError, `${relative('.', file)}: ${name} does not extend SigopsError`);
      if (!abstract) assert.ok(name! in EXAMPLES, `${name} (${relative('.', file)}) needs an example in EXAMPLES`);
    }
  }
  for (const name of Object.keys(EXAMPLES)) assert.ok(found.includes(name), `${name} is no longer exported from src/`);
});

test('every error carries its class name, a non-empty code and advice, and prints both', () => {
  for (const [name, make] of Object.entries(EXAMPLES)) {
    const err = make();
    assert.ok(err instanceof SigopsError, name);
    assert.equal(err.name, name);
    assert.equal(typeof err.code, 'string', name);
    assert.ok(err.code.length > 0, `${name}: empty code`);
    assert.ok(err.advice.trim().length > 0, `${name}: empty advice`);
    assert.deepEqual(describeError(err), { name, code: err.code, message: err.message, advice: err.advice });
    assert.equal(formatError(err), `${name} [${err.code}]: ${err.message}\n  advice: ${err.advice}`);
  }
});

test('codes: the diagnostic code, the service code or HTTP status, the plan refusal, the relay reason', () => {
  assert.equal(EXAMPLES.ConfigError!().code, 'unknown-key');
  assert.match(EXAMPLES.ConfigError!().advice, /tenants\/a\.yaml at line 3, column 5/);
  assert.equal(EXAMPLES.ConfigInvalidError!().code, 'config-invalid');
  assert.match(EXAMPLES.ConfigInvalidError!().advice, /sigops validate/);
  assert.equal(new AuthenticationError('t', 'refused', 'AADSTS700016').code, 'AADSTS700016');
  assert.equal(new AuthenticationError('t', 'no token returned').code, 'authentication');
  assert.equal(new ExchangeApiError({ ...api, code: 'InternalServerError' }).code, 'InternalServerError');
  assert.equal(new ExchangeApiError(api).code, '500');
  assert.equal(new ExchangeApiError({ ...api, status: 0 }).code, 'exchange-request-failed');
  assert.equal(new StalePlanError('a', 'b').code, PLAN_ERROR_CODE.stalePlan);
  assert.equal(new SafetyLimitError(['a', 'b'], 1).code, PLAN_ERROR_CODE.safetyLimit);
  assert.equal(new UnknownTenantError('x').code, PLAN_ERROR_CODE.unknownTenant);
  const deferred = deliveryError({ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }, 'mx.example');
  assert.equal(deferred.code, 'next-hop-unreachable');
  assert.equal(deferred.code, deferred.reason);
  assert.equal(deferred.responseCode, 451);
  assert.equal(new ActionInputError('GITHUB_EVENT_NAME is not set').code, 'action-environment');
  assert.equal(new ActionInputError('bad', 'force').code, 'action-input');
  assert.equal(new GitHubApiError('x', 0, 'no answer', '').code, 'github-unreachable');
  assert.equal(EXAMPLES.GitHubApiError!().code, '404');
  assert.equal(EXAMPLES.TemplateCompileError!().code, 'template-invalid');
});

test('a plain Error prints its message alone; other errors keep their name', () => {
  assert.equal(formatError(new Error('give --config DIR')), 'give --config DIR');
  assert.equal(formatError(new TypeError('x is undefined')), 'TypeError: x is undefined');
  assert.equal(formatError('a string'), 'a string');
  assert.equal(formatErrorSummary({ name: 'AuthenticationError', code: 'AADSTS1', message: 'm' }), 'AuthenticationError [AADSTS1]: m');
});
