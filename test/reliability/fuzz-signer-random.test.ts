// Fuzzing signMessage with random bytes (alone, and behind a multipart header), and the
// quoted-printable encoder on its own: it decodes back, keeps lines within 76 and never starts a
// line with "-" (a soft break before "--boundary" would end the part). See fuzz-mime.ts.
import { it } from 'node:test';
import fc from 'fast-check';
import { check, checkQuotedPrintable, qpInputArb, randomArb, RUNS, runBudget } from './fuzz-mime.ts';

it('fuzz: random bytes', { timeout: 120_000 }, async () => {
  await runBudget('random bytes', fc.asyncProperty(randomArb, check), 60_000);
});

it('fuzz: the quoted-printable encoder', { timeout: 60_000 }, async () => {
  await runBudget('quoted-printable encoder', fc.property(qpInputArb, fc.constantFrom<'\r\n' | '\n'>('\r\n', '\n'), checkQuotedPrintable), 20_000, RUNS * 5);
});
