// fitMarkdown on arbitrary markdown-like text: never over the limit, never leaves a code fence or
// <details> open, keeps the text untouched when it fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fitMarkdown } from '../../src/github/markdown.ts';

const line = fc.oneof(
  fc.constantFrom('```diff', '```', '~~~', '<details><summary>x</summary>', '</details>', '', '| a | b |', '> note'),
  fc.string({ maxLength: 80 }).map((s) => s.replace(/\n/g, ' ')),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\n/g, ' ')),
);

function balanced(text: string): boolean {
  let fence: string | undefined;
  let details = 0;
  for (const l of text.split('\n')) {
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(l);
    if (fence !== undefined) {
      if (m && m[1]!.startsWith(fence[0]!) && m[1]!.length >= fence.length && l.trim() === m[1]) fence = undefined;
      continue;
    }
    if (m) {
      fence = m[1];
      continue;
    }
    for (const t of l.matchAll(/<(\/?)details\b[^>]*>/gi)) details += t[1] === '/' ? (details > 0 ? -1 : 0) : 1;
  }
  return fence === undefined && details === 0;
}

test('fitMarkdown: within the limit, structures closed, unchanged when it fits', () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 400 }), fc.integer({ min: 400, max: 6000 }), (lines, max) => {
      const text = lines.join('\n');
      const out = fitMarkdown(text, max, 'test limit');
      assert.ok(out.length <= max, `${out.length} > ${max}`);
      if (text.length <= max) {
        assert.equal(out, text);
      } else {
        assert.match(out, /Shortened: [\d,]+ characters left out because test limit/);
        // Whatever the cut left open (fence, <details>) is closed before the note.
        const kept = out.slice(0, out.indexOf('\n\n> [!NOTE]'));
        assert.ok(balanced(kept), 'balanced after the cut');
      }
    }),
    { numRuns: 300 },
  );
});
