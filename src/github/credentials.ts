// The action's Entra inputs (client-id, client-secret, client-certificate, use-oidc) turned into
// the environment the Exchange code reads, and whether that environment holds any credential.
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ActionInputError, getBooleanInput, getInput, type GitHubContext } from './env.ts';

/**
 * The Entra inputs become the variables the Exchange code reads: SIGOPS_CLIENT_ID,
 * SIGOPS_CLIENT_SECRET, SIGOPS_CLIENT_CERTIFICATE (a path; PEM content given inline is written
 * to a private temporary file) and, for OIDC, the ACTIONS_ID_TOKEN_REQUEST_* pair GitHub sets
 * when the job has `id-token: write`.
 */
export async function mapCredentialInputs(
  env: Record<string, string | undefined>,
  ctx: Pick<GitHubContext, 'workspace'>,
  out: (l: string) => void = () => {},
): Promise<void> {
  const clientId = getInput(env, 'client-id');
  const secret = getInput(env, 'client-secret');
  const certificate = getInput(env, 'client-certificate');
  const useOidc = getBooleanInput(env, 'use-oidc');
  if (clientId) env.SIGOPS_CLIENT_ID = clientId;
  if (secret) {
    out(`::add-mask::${secret}`);
    env.SIGOPS_CLIENT_SECRET = secret;
  }
  if (certificate) {
    if (certificate.includes('-----BEGIN')) {
      const dir = await mkdtemp(join(env.RUNNER_TEMP || tmpdir(), 'sigops-'));
      const path = join(dir, 'client.pem');
      await writeFile(path, certificate.replace(/\r\n/g, '\n') + '\n', { mode: 0o600 });
      await chmod(path, 0o600);
      env.SIGOPS_CLIENT_CERTIFICATE = path;
    } else {
      env.SIGOPS_CLIENT_CERTIFICATE = isAbsolute(certificate) ? certificate : resolve(ctx.workspace, certificate);
    }
  }
  if (useOidc === true) {
    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new ActionInputError(
        '`use-oidc: true` but GitHub provided no OIDC token: give the job `permissions: id-token: write` ' +
          '(pull requests from forks never get one)',
        'use-oidc',
      );
    }
    // The Exchange code prefers a certificate or secret when present; OIDC was asked for.
    delete env.SIGOPS_CLIENT_SECRET;
    delete env.SIGOPS_CLIENT_CERTIFICATE;
  } else if (useOidc === false) {
    delete env.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  }
}

/** The environment names an app and one way for it to sign in (secret, certificate or OIDC). */
export function hasCredentials(env: Record<string, string | undefined>): boolean {
  return Boolean(
    env.SIGOPS_CLIENT_ID &&
      (env.SIGOPS_CLIENT_SECRET || env.SIGOPS_CLIENT_CERTIFICATE || (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)),
  );
}
