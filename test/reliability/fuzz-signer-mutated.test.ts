// Fuzzing signMessage (fuzz-mime.ts): generated messages mutated byte by byte with MIME-significant
// tokens (boundaries, blank lines, bare CR/LF, NUL, '='): never a throw, a hang, unbounded output,
// a chunking dependence or an added control character; unsigned output is the input plus our header.
import { it } from 'node:test';
import fc from 'fast-check';
import { check, mutatedArb, runBudget } from './fuzz-mime.ts';

it('fuzz: generated MIME, mutated byte by byte', { timeout: 150_000 }, async () => {
  await runBudget('generated MIME, mutated byte by byte', fc.asyncProperty(mutatedArb, check), 90_000);
});
