// The GitHub Action's entry point: GitHub runs the bundled dist/index.mjs built from this file.
// All logic lives in src/github; this only wires the real sigops modules to it.
import { runAction } from '../../src/github/index.ts';
import { sigopsServices } from '../../src/github/services.ts';

process.exitCode = await runAction({ env: process.env, services: sigopsServices() });
