// Where the shared corpus of real messages lives: `../shared/corpus` beside the project
// checkout (as on developer machines and in CI), or SIGOPS_CORPUS. Tests fail loudly when it
// is missing rather than silently testing nothing.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PROJECT_ROOT = join(import.meta.dirname, '..');

export const CORPUS_DIR: string = (() => {
  const dir = process.env.SIGOPS_CORPUS ?? join(PROJECT_ROOT, '..', 'shared', 'corpus');
  if (!existsSync(dir)) {
    throw new Error(`the shared corpus is missing at ${dir}: check out shared/ beside the project or set SIGOPS_CORPUS`);
  }
  return dir;
})();

/** Every message of the corpus (.eml and .txt, licences and readmes left out), in a stable order. */
export function corpusFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(eml|txt)$/.test(n) && !/^LICENSE|README/i.test(n)) out.push(p);
    }
  };
  walk(CORPUS_DIR);
  return out;
}
