#!/usr/bin/env node
// Bundles the sigops command line (src/cli/main.ts) and the relay's signing worker
// (src/mime/sign-worker.ts) with esbuild into two ES modules that plain `node` runs with no
// node_modules and no TypeScript loader: what the container image ships (see Dockerfile). The
// worker goes beside the CLI as sign-worker.mjs, where src/mime/offload.ts looks for it.
// Bundled, the relay also needs less memory than through tsx (docs/relay.md, "Performance").
//
// Usage: node scripts/build-image.mjs [--outdir DIR]   (default dist/)
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} outdir */
export async function buildImageBundle(outdir = join(root, 'dist')) {
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: /** @type {const} */ ('node'),
    target: 'node20',
    format: /** @type {const} */ ('esm'),
    // identifiers kept: stack traces in the relay's logs stay readable
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: /** @type {const} */ ('none'),
    sourcemap: false,
    // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
    banner: { js: "import { createRequire as __sigopsCreateRequire } from 'node:module';\nconst require = __sigopsCreateRequire(import.meta.url);" },
    logLevel: /** @type {const} */ ('warning'),
  };
  await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: join(outdir, 'sigops.mjs') });
  await build({ ...common, entryPoints: ['src/mime/sign-worker.ts'], outfile: join(outdir, 'sign-worker.mjs') });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  const outdir = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : undefined;
  await buildImageBundle(outdir);
  console.log(`built ${outdir ?? 'dist'}/sigops.mjs and sign-worker.mjs`);
}
