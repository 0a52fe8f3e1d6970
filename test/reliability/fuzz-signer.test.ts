// Fuzzing signMessage (fuzz-mime.ts has the inputs, properties and budget): generated MIME trees
// signed with hostile signature blocks must come out as valid MIME, every part but the signed
// text parts byte-identical, with no line that reads as a boundary of the message.
import { it } from 'node:test';
import fc from 'fast-check';
import { check, generatedArb, runBudget } from './fuzz-mime.ts';

it('fuzz: generated MIME with hostile signatures', { timeout: 150_000 }, async () => {
  await runBudget('generated MIME with hostile signatures', fc.asyncProperty(generatedArb, check), 90_000);
});
