// Placement on the fixture set of test/fixtures/placement/: one reply per client, language and
// form, written by hand (never copied from another project's test suite), with the spot where a
// person would put the signature marked by the token %%SIGNATURE%%. Each fixture is signed as a
// one-part message (text/plain or text/html, UTF-8, base64) through the real engine, and the
// signature must land at the token: only white space (and, in HTML, tags, comments and
// non-breaking spaces, nothing a reader sees) may lie between the two.
//
// Layout: test/fixtures/placement/<client>/<language>[-<variant>].<txt|html>, e.g.
// gmail/fi.txt, outlook-desktop/pt-date-first.html, negatives/en-wrote-in-text.txt. The
// language is a BCP 47 tag. A fixture with the token at the very end has no quote (precision).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placedAt, placementFixtures, visibleBetween } from './placement-fixtures.ts';

export { FIXTURES, TOKEN, fixtureMessage, placedAt, placementFixtures, visibleBetween } from './placement-fixtures.ts';
export type { PlacementFixture } from './placement-fixtures.ts';

describe('placement on the fixture set (test/fixtures/placement)', () => {
  const fixtures = placementFixtures();
  it('has fixtures', () => assert.ok(fixtures.length > 0));
  for (const f of fixtures) {
    it(f.name, async () => {
      const at = await placedAt(f);
      const seen = visibleBetween(f, at);
      assert.equal(
        seen,
        '',
        `${f.name}: the signature went to ${at}, expected ${f.expected}; between them: ${JSON.stringify(seen.slice(0, 200))}\n` +
          `placed before: ${JSON.stringify(f.body.slice(at, at + 120))}`,
      );
    });
  }
});
