// The placement fixture set of test/fixtures/placement/ as data: reading the fixtures, building the
// message a client would send, signing it through the engine and measuring what a reader sees
// between the engine's spot and the marked one. Shared by the fixture test and
// scripts/placement-coverage.mjs (which must not start the test runner).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sign, verifyOutput } from './helpers.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'placement');
export const TOKEN = '%%SIGNATURE%%';

export interface PlacementFixture {
  /** Path under test/fixtures/placement/. */
  readonly name: string;
  readonly client: string;
  readonly language: string;
  readonly variant?: string;
  readonly format: 'text' | 'html';
  /** The reply as the client wrote it (the token taken out). */
  readonly body: string;
  /** Where the signature belongs in `body`. */
  readonly expected: number;
}

export function placementFixtures(dir = FIXTURES): PlacementFixture[] {
  const out: PlacementFixture[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(txt|html)$/.test(n)) out.push(readFixture(p, dir));
    }
  };
  walk(dir);
  return out;
}

function readFixture(path: string, root: string): PlacementFixture {
  const name = relative(root, path);
  const raw = readFileSync(path, 'utf8');
  const expected = raw.indexOf(TOKEN);
  assert.ok(expected >= 0 && raw.indexOf(TOKEN, expected + 1) < 0, `${name}: exactly one ${TOKEN}`);
  const [client = '', file = ''] = name.split('/').slice(-2);
  // a region or script subtag is upper case or title case (pt-BR, zh-Hant), so a variant in lower
  // case is not read as one (en-wrote-in-text: language en, variant wrote-in-text)
  const m = /^([a-z]{2,3}(?:-(?:[A-Z]{2}|[A-Z][a-z]{3}|\d{3}))?)(?:[-_](.+))?\.(txt|html)$/.exec(file);
  assert.ok(m, `${name}: named <language>[-<variant>].<txt|html>`);
  return {
    name,
    client,
    language: m[1]!,
    variant: m[2],
    format: m[3] === 'html' ? 'html' : 'text',
    body: raw.slice(0, expected) + raw.slice(expected + TOKEN.length),
    expected,
  };
}

/** The fixture as a one-part message, the way a client sends it. */
export function fixtureMessage(f: PlacementFixture): Buffer {
  const b64 = Buffer.from(f.body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: Alice Example <alice@contoso.com>',
      'To: Bob Example <bob@fabrikam.com>',
      'Subject: Re: fixture',
      'MIME-Version: 1.0',
      `Content-Type: ${f.format === 'html' ? 'text/html' : 'text/plain'}; charset=utf-8`,
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      '',
    ].join('\r\n'),
  );
}

const INVISIBLE_HTML = /<!--[\s\S]*?-->|<[^<>]*>|&nbsp;|&#160;|&#xa0;|\s+/gi;

/** What a reader sees between two positions: nothing, when placement is right. */
export function visibleBetween(f: PlacementFixture, at: number): string {
  const between = f.body.slice(Math.min(at, f.expected), Math.max(at, f.expected));
  return (f.format === 'html' ? between.replace(INVISIBLE_HTML, '') : between.replace(/\s+/g, '')).trim();
}

/** Where the engine puts the signature in the fixture's body. */
export async function placedAt(f: PlacementFixture): Promise<number> {
  const input = fixtureMessage(f);
  const { out, outcome } = await sign(input);
  assert.equal(outcome.signed, true, `${f.name}: signed (${JSON.stringify(outcome)})`);
  const where = verifyOutput(input, out, outcome)[f.format];
  assert.ok(where, `${f.name}: the ${f.format} part was signed`);
  assert.equal(where.before, f.body, `${f.name}: decoded as written`);
  return where.at;
}
