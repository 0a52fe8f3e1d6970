// Where the shared corpus of real messages lives: `../shared/corpus` beside the project
// checkout (as on developer machines and in CI), or SIGOPS_CORPUS. It is not part of the
// repository (other projects' messages, under their own licences), so on a fresh clone the tests
// that read it are reported as skipped with CORPUS_MISSING as the reason. Where it must be
// there (CI sets SIGOPS_REQUIRE_CORPUS=1), a missing corpus fails loudly instead of silently
// testing less.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PROJECT_ROOT = join(import.meta.dirname, '..');

const location = process.env.SIGOPS_CORPUS ?? join(PROJECT_ROOT, '..', 'shared', 'corpus');
const present = existsSync(location) && statSync(location).isDirectory();

if (!present && process.env.SIGOPS_REQUIRE_CORPUS === '1') {
  throw new Error(`the shared corpus is missing at ${location} and SIGOPS_REQUIRE_CORPUS=1: check out shared/ beside the project or set SIGOPS_CORPUS`);
}

/** Why corpus tests are skipped here (a one-line reason for `{ skip }`), or false when the corpus is present. */
export const CORPUS_MISSING: string | false = present
  ? false
  : `no shared corpus at ${location} (check out shared/ beside the project or set SIGOPS_CORPUS)`;

/** The corpus directory; only meaningful when CORPUS_MISSING is false. */
export const CORPUS_DIR: string = location;

/** Every message of the corpus (.eml and .txt, licences and readmes left out), in a stable order; none when it is missing. */
export function corpusFiles(): string[] {
  if (!present) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(eml|txt)$/.test(n) && !/^LICENSE|README/i.test(n)) out.push(p);
    }
  };
  walk(location);
  return out;
}
