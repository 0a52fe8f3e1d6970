// Loading the config repository for a command: one place that prints every error
// (file:line:col, what to fix) the same way for all commands.
import { resolve } from 'node:path';
import { formatDiagnostics, loadConfigRepo, type ConfigRepo } from '../config/index.ts';

/** Loads the config; on errors prints them to stderr and returns undefined. */
export async function loadConfigOrReport(dir: string): Promise<ConfigRepo | undefined> {
  const root = resolve(dir);
  const result = await loadConfigRepo(root);
  if (!result.ok) {
    process.stderr.write(formatDiagnostics(result.errors, result.warnings, 'text', { root, cwd: process.cwd() }));
    return undefined;
  }
  return result.config;
}
