// Adapter from the config loader (src/config) and compiler (src/policy) to the relay's
// PolicyLoader: diagnostics become "file:line:col message" strings for logs and /healthz.
import { loadConfigRepo, type ConfigDiagnostic } from '../config/index.ts';
import { compilePolicy } from '../policy/index.ts';
import type { PolicyLoadResult } from './policy-store.ts';

const fmt = (d: ConfigDiagnostic): string => `${d.file}:${d.line}:${d.col} ${d.message}`;

export async function defaultPolicyLoader(root: string): Promise<PolicyLoadResult> {
  const loaded = await loadConfigRepo(root);
  if (!loaded.ok) return { ok: false, errors: loaded.errors.map(fmt) };
  const policy = compilePolicy(loaded.config);
  return { ok: true, policy, warnings: loaded.warnings.map(fmt) };
}
