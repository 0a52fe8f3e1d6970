// The shared Microsoft cloud HTTP plumbing on its own, with a scripted fetch: how long it waits
// (Retry-After as seconds or date, capped; back-off otherwise), when it replays after a network
// error, and that paging never takes the bearer token to another host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ServiceConnection,
  parseRetryAfter,
  readJsonBody,
  retryDelay,
  type ErrorAnswer,
  type RetryPolicy,
  type ServiceCall,
  type ServiceErrors,
} from '../../src/entra/index.ts';

const POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 60_000 };
const GET: ServiceCall = { method: 'GET', replayable: true };

/** The client's error for tests: what produced it, and the answer's status (0: no answer). */
class TestError extends Error {
  constructor(
    readonly kind: 'answer' | 'exhausted' | 'unreachable' | 'foreign' | 'endless',
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ERRORS: ServiceErrors<TestError> = {
  answer: (a) => new TestError('answer', a.status, `HTTP ${a.status}: ${a.text}`),
  exhausted: (e, _a, attempts) => new TestError('exhausted', e.status, `after ${attempts}: ${e.message}`),
  unreachable: (cause, url) => new TestError('unreachable', 0, `${url}: ${cause.message}`),
  foreignNextLink: (target) => new TestError('foreign', 0, `refused ${target.origin}`),
  endlessPaging: (target, reason, pages) => new TestError('endless', 0, `${reason} after ${pages}: ${target.href}`),
};

interface Seen {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: string | undefined;
}

/** A fetch that plays the given answers in order (an Error is thrown, as fetch does when the network fails). */
function scripted(answers: Array<Response | Error | (() => Response)>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fake: typeof fetch = async (input, init) => {
    seen.push({ url: String(input), method: init?.method ?? 'GET', headers: new Headers(init?.headers), body: init?.body as string | undefined });
    const next = answers.shift();
    if (next === undefined) throw new Error(`unexpected request ${String(input)}`);
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next() : next;
  };
  return { fetch: fake, seen };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function connection(fetchImpl: typeof fetch, sleeps: number[], policy: RetryPolicy = POLICY): ServiceConnection {
  let n = 0;
  return new ServiceConnection({
    tenantId: 'tenant-1',
    tokens: { getToken: async (tenantId) => `token-${tenantId}-${++n}` },
    serviceUrl: 'https://service.example/api',
    retry: policy,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    fetch: fetchImpl,
  });
}

test('parseRetryAfter reads seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('retryDelay: exactly what Retry-After asks (seconds or date, a past date is 0), capped at maxDelayMs', () => {
  assert.equal(retryDelay(POLICY, 1, '7'), 7000);
  assert.equal(retryDelay(POLICY, 5, '7'), 7000, 'the attempt number does not add back-off on top');
  assert.equal(retryDelay(POLICY, 1, '0'), 0);
  assert.equal(retryDelay(POLICY, 1, new Date(20_000).toUTCString(), 5_000), 15_000);
  assert.equal(retryDelay(POLICY, 1, new Date(1_000).toUTCString(), 5_000), 0);
  assert.equal(retryDelay(POLICY, 1, '86400'), 60_000, 'a day is cut to the ceiling');
  assert.equal(retryDelay(POLICY, 1, new Date(86_400_000).toUTCString(), 0), 60_000);
});

test('retryDelay without Retry-After: exponential back-off with equal jitter, capped', () => {
  assert.equal(retryDelay(POLICY, 1, undefined, 0, () => 0), 500);
  assert.equal(retryDelay(POLICY, 1, undefined, 0, () => 1), 1000);
  assert.equal(retryDelay(POLICY, 3, null, 0, () => 0), 2000);
  assert.equal(retryDelay(POLICY, 3, 'soon', 0, () => 1), 4000, 'an unreadable Retry-After counts as none');
  assert.equal(retryDelay(POLICY, 30, undefined, 0, () => 1), 60_000);
  assert.equal(retryDelay(POLICY, 30, undefined, 0, () => 0), 30_000);
});

test('readJsonBody: {} for an empty body, undefined for a body that is not JSON, the text either way', async () => {
  assert.deepEqual(await readJsonBody(new Response('')), { text: '', json: {} });
  assert.deepEqual(await readJsonBody(new Response('<html>')), { text: '<html>', json: undefined });
  assert.deepEqual(await readJsonBody(new Response('{"a":1}')), { text: '{"a":1}', json: { a: 1 } });
});

test('a 429 with Retry-After in seconds, then one with an HTTP date, is waited out and retried with a fresh token', async () => {
  const sleeps: number[] = [];
  const at = new Date(Date.now() + 30_000).toUTCString();
  const { fetch, seen } = scripted([
    json({ error: 'busy' }, 429, { 'retry-after': '3' }),
    json({ error: 'busy' }, 429, { 'retry-after': at }),
    json({ value: [{ id: 1 }] }),
  ]);
  const page = await connection(fetch, sleeps).request('https://service.example/api/items', GET, ERRORS);
  assert.deepEqual(page, { value: [{ id: 1 }] });
  assert.equal(sleeps[0], 3000);
  // The date is read against the clock when the answer arrives: a little less than 30 s.
  assert.ok(sleeps[1]! > 25_000 && sleeps[1]! <= 30_000, `waited ${sleeps[1]}`);
  assert.deepEqual(seen.map((s) => s.headers.get('authorization')), ['Bearer token-tenant-1-1', 'Bearer token-tenant-1-2', 'Bearer token-tenant-1-3']);
});

test('a Retry-After beyond the ceiling is cut to maxDelayMs; every attempt busy gives the exhausted error', async () => {
  const sleeps: number[] = [];
  const busy = () => json({}, 503, { 'retry-after': '3600' });
  const { fetch, seen } = scripted([busy, busy, busy]);
  const err = await connection(fetch, sleeps, { attempts: 3, baseDelayMs: 10, maxDelayMs: 2000 })
    .request('https://service.example/api/items', GET, ERRORS)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TestError, String(err));
  assert.equal(err.kind, 'exhausted');
  assert.equal(err.status, 503);
  assert.match(err.message, /^after 3: HTTP 503/);
  assert.deepEqual(sleeps, [2000, 2000]);
  assert.equal(seen.length, 3);
});

test('only retriable answers are retried: the default is 429/503/504, a client can add its own', async () => {
  const sleeps: number[] = [];
  const forbidden = scripted([json({ error: 'no' }, 403)]);
  const err = await connection(forbidden.fetch, sleeps).request('https://service.example/api/x', GET, ERRORS).catch((e: unknown) => e);
  assert.ok(err instanceof TestError && err.kind === 'answer' && err.status === 403, String(err));
  assert.deepEqual(sleeps, []);

  // A service that says "too busy" with a 400 (as Exchange does for concurrent requests).
  const tooMany = scripted([new Response('too many concurrent requests', { status: 400 }), json({ ok: true })]);
  const custom: ServiceErrors<TestError> = { ...ERRORS, retriable: (a: ErrorAnswer) => /concurrent/.test(a.text) };
  assert.deepEqual(await connection(tooMany.fetch, sleeps).request('https://service.example/api/x', GET, custom), { ok: true });
  assert.equal(sleeps.length, 1);
  assert.ok(sleeps[0]! >= 500 && sleeps[0]! <= 1000, 'no Retry-After: first back-off step');
});

test('a network error is replayed only when the call allows it', async () => {
  const sleeps: number[] = [];
  const read = scripted([new TypeError('fetch failed'), json({ value: [] })]);
  assert.deepEqual(await connection(read.fetch, sleeps).request('https://service.example/api/x', GET, ERRORS), { value: [] });
  assert.equal(read.seen.length, 2);
  assert.equal(sleeps.length, 1);

  const write = scripted([new TypeError('fetch failed'), json({})]);
  const call: ServiceCall = { method: 'POST', body: '{"do":"it"}', headers: { 'Content-Type': 'application/json' }, replayable: false };
  const err = await connection(write.fetch, sleeps).request('https://service.example/api/x', call, ERRORS).catch((e: unknown) => e);
  assert.ok(err instanceof TestError && err.kind === 'unreachable', String(err));
  assert.equal(err.message, 'https://service.example/api/x: fetch failed');
  assert.equal(write.seen.length, 1, 'not sent twice');
  assert.equal(write.seen[0]!.method, 'POST');
  assert.equal(write.seen[0]!.body, '{"do":"it"}');
  assert.equal(write.seen[0]!.headers.get('content-type'), 'application/json');
  assert.equal(write.seen[0]!.headers.get('accept'), 'application/json');

  // Replayable, but the network stays down: unreachable after the last attempt.
  const down = scripted([new TypeError('a'), new TypeError('b'), new TypeError('c')]);
  const gone = await connection(down.fetch, [], { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 }).request('https://service.example/api/x', GET, ERRORS).catch((e: unknown) => e);
  assert.ok(gone instanceof TestError && gone.kind === 'unreachable' && /: c$/.test(gone.message), String(gone));
});

test('collect follows @odata.nextLink on the same origin (relative links against the page) and refuses another host', async () => {
  const { fetch, seen } = scripted([
    json({ value: [{ id: 1 }], '@odata.nextLink': 'https://service.example/api/items?$skiptoken=2' }),
    json({ value: [{ id: 2 }], '@odata.nextLink': 'items?$skiptoken=3' }),
    json({ value: [{ id: 3 }] }),
  ]);
  const items = await connection(fetch, []).collect('https://service.example/api/items', GET, ERRORS);
  assert.deepEqual(items, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  assert.deepEqual(seen.map((s) => s.url), [
    'https://service.example/api/items',
    'https://service.example/api/items?$skiptoken=2',
    'https://service.example/api/items?$skiptoken=3',
  ]);

  for (const foreign of ['https://evil.example/api/items?$skiptoken=2', 'http://service.example/api/items', 'https://service.example:8443/x', '//evil.example/x']) {
    const s = scripted([json({ value: [{ id: 1 }], '@odata.nextLink': foreign })]);
    const err = await connection(s.fetch, []).collect('https://service.example/api/items', GET, ERRORS).catch((e: unknown) => e);
    assert.ok(err instanceof TestError && err.kind === 'foreign', `${foreign}: ${String(err)}`);
    assert.equal(err.message, `refused ${new URL(foreign, 'https://service.example/').origin}`);
    assert.equal(s.seen.length, 1, `${foreign} was not requested`);
  }
});

test('collect stops with endlessPaging on a nextLink already followed, and at maxPages', async () => {
  // Graph has been seen to hand out the same nextLink again and again (microsoftgraph/microsoft-graph-docs#4897).
  const same = 'https://service.example/api/items?$skiptoken=2';
  const loop = scripted([
    json({ value: [{ id: 1 }], '@odata.nextLink': same }),
    json({ value: [{ id: 2 }], '@odata.nextLink': same }),
  ]);
  const err = await connection(loop.fetch, []).collect('https://service.example/api/items', GET, ERRORS).catch((e: unknown) => e);
  assert.ok(err instanceof TestError && err.kind === 'endless', String(err));
  assert.equal(err.message, `repeated after 2: ${same}`);
  assert.equal(loop.seen.length, 2);

  // A link back to the first page is a repeat too.
  const back = scripted([json({ value: [], '@odata.nextLink': '/api/items' })]);
  const e2 = await connection(back.fetch, []).collect('https://service.example/api/items', GET, ERRORS).catch((e: unknown) => e);
  assert.ok(e2 instanceof TestError && e2.kind === 'endless', String(e2));

  // Ever-new links end at the page limit.
  let page = 0;
  const endless: typeof fetch = async () => json({ value: [{ page }], '@odata.nextLink': `https://service.example/api/items?$skiptoken=${++page}` });
  const capped = new ServiceConnection({
    tenantId: 't',
    tokens: { getToken: async () => 'token' },
    serviceUrl: 'https://service.example/api',
    fetch: endless,
    maxPages: 5,
  });
  const e3 = await capped.collect('https://service.example/api/items', GET, ERRORS).catch((e: unknown) => e);
  assert.ok(e3 instanceof TestError && e3.kind === 'endless', String(e3));
  assert.match(e3.message, /^too-many after 5:/);
  assert.equal(page, 5);
});

test('every request carries a fresh client-request-id; errors get it and the request-id answered', async () => {
  const answers: ErrorAnswer[] = [];
  const recording: ServiceErrors<TestError> = { ...ERRORS, answer: (a) => (answers.push(a), ERRORS.answer(a)) };
  const { fetch, seen } = scripted([
    json({ error: 'busy' }, 503, { 'request-id': 'r-1' }),
    json({ error: 'no' }, 400, { 'request-id': 'r-2' }),
  ]);
  await connection(fetch, []).request('https://service.example/api/x', GET, recording).catch(() => undefined);
  const sent = seen.map((s) => s.headers.get('client-request-id'));
  assert.equal(sent.length, 2);
  for (const id of sent) assert.match(id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.notEqual(sent[0], sent[1]);
  assert.deepEqual(
    answers.map((a) => [a.clientRequestId, a.requestId]),
    [
      [sent[0], 'r-1'],
      [sent[1], 'r-2'],
    ],
  );
  // A network failure gives the id of the request that got no answer.
  const ids: string[] = [];
  const down = scripted([new TypeError('fetch failed')]);
  const unreachable: ServiceErrors<TestError> = { ...ERRORS, unreachable: (cause, url, r) => (ids.push(r.clientRequestId), ERRORS.unreachable(cause, url, r)) };
  await connection(down.fetch, []).request('https://service.example/api/x', { method: 'POST', replayable: false }, unreachable).catch(() => undefined);
  assert.deepEqual(ids, [down.seen[0]!.headers.get('client-request-id')]);
});

test('a body that cannot be read (declared gzip, NUL bytes) is an error answer with the status, not a TypeError', async () => {
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': '16' });
    res.end(Buffer.alloc(16));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const body = await readJsonBody(res);
    assert.equal(body.text, '');
    assert.equal(body.json, undefined);
    assert.match(body.unreadable ?? '', /terminated/);

    const answers: ErrorAnswer[] = [];
    const c = new ServiceConnection({ tenantId: 't', tokens: { getToken: async () => 'token' }, serviceUrl: `http://127.0.0.1:${port}` });
    const err = await c
      .request(`http://127.0.0.1:${port}/x`, GET, { ...ERRORS, answer: (a) => (answers.push(a), ERRORS.answer(a)) })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TestError && err.kind === 'answer' && err.status === 403, String(err));
    assert.match(answers[0]!.unreadable ?? '', /terminated/);
  } finally {
    server.close();
  }
});
