// Adapter from the config loader (src/config) and compiler (src/policy) to the relay's
// PolicyLoader: diagnostics become "file:line:col message" strings for logs and /healthz.
import type { PolicyLoadResult } from './policy-store.ts';

export async function defaultPolicyLoader(root: string): Promise<PolicyLoadResult> {
  // TEMPORARY: imported by URL until src/config and src/policy land (they are being written).
  const config = (await import(new URL('../config/index.ts', import.meta.url).href)) as {
    loadConfigRepo(root: string): Promise<
      | { ok: true; config: unknown; warnings: Array<{ file: string; line: number; col: number; message: string }> }
      | { ok: false; errors: Array<{ file: string; line: number; col: number; message: string }>; warnings: unknown[] }
    >;
  };
  const policyMod = (await import(new URL('../policy/index.ts', import.meta.url).href)) as {
    compilePolicy(config: unknown): import('../policy/types.ts').Policy;
  };
  const fmt = (d: { file: string; line: number; col: number; message: string }) => `${d.file}:${d.line}:${d.col} ${d.message}`;
  const loaded = await config.loadConfigRepo(root);
  if (!loaded.ok) return { ok: false, errors: loaded.errors.map(fmt) };
  const policy = policyMod.compilePolicy(loaded.config);
  return { ok: true, policy, warnings: loaded.warnings.map(fmt) };
}
