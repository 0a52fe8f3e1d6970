// The real CLI (./bin/sigops) as a child process, for the tests that configure it only through
// the environment, as production does.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs ./bin/sigops with `args`. The environment is this process's without any SIGOPS_* or
 * GitHub OIDC variable (a developer's shell must not leak into a test), plus `env`.
 */
export function runSigops(args: string[], env: Record<string, string>): Promise<CliRun> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(SIGOPS_|ACTIONS_ID_TOKEN_)/.test(k)) base[k] = v;
  }
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [resolve('bin/sigops'), ...args], { env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}
