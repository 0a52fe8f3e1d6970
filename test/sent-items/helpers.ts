// Shared pieces of the Sent Items tests: a fake clock, a queue on a temporary state directory
// whose replacer is the production one against the Graph mailbox fake, and a signed copy
// written as the relay would write it.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../src/log/index.ts';
import { MailboxClient, SentItemsMetrics, SentItemsQueue, replaceSentItem, type Replacer, type SentItemsBounds } from '../../src/sent-items/index.ts';
import { FakeGraphMailbox } from '../fakes/graph-mailbox.ts';

export const TENANT_ID = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';
export const ALICE = 'alice@contoso.com';

/** A clock the test moves: every part (queue, Graph fake) reads it. */
export class FakeClock {
  t = Date.parse('2026-11-30T08:00:00Z');
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export async function stateDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'sigops-sent-')), 'sent-items');
}

/** The production replacer, with a MailboxClient on the fake (no real back-off waits). */
export function fakeReplacer(graph: FakeGraphMailbox, calls?: { count: number }): Replacer {
  const client = new MailboxClient({ tenantId: TENANT_ID, tokens: { getToken: async () => 'token' }, graphUrl: graph.url, sleep: async () => undefined });
  return (job, readCopy) => {
    if (calls) calls.count++;
    return replaceSentItem(job, readCopy, client);
  };
}

export interface TestQueue {
  readonly queue: SentItemsQueue;
  readonly registry: Registry;
}

export async function openQueue(o: { dir: string; replacer: Replacer; clock: FakeClock; bounds?: Partial<SentItemsBounds>; log?: Logger }): Promise<TestQueue> {
  const registry = new Registry();
  const queue = new SentItemsQueue({
    dir: o.dir,
    replacer: o.replacer,
    metrics: (state) => new SentItemsMetrics(registry, state),
    log: o.log ?? silentLogger(),
    now: o.clock.now,
    random: () => 0.5,
    bounds: { firstAttemptDelayMs: 20_000, ...o.bounds },
  });
  await queue.open();
  return { queue, registry };
}

export function signedMessage(o: { messageId: string; marker?: string; from?: string }): string {
  return [
    `From: Alice <${o.from ?? ALICE}>`,
    'To: Bob <bob@example.org>',
    'Subject: Quarterly numbers',
    `Message-ID: ${o.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hi Bob\r\n-- ${o.marker ?? 'SIGNED'}`,
    '--b1',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    `<p>Hi Bob</p><p>${o.marker ?? 'SIGNED'} =E2=80=93 Contoso</p>`,
    '--b1--',
    '',
  ].join('\r\n');
}

/** Writes a signed copy through the tee, as the relay does, and hands it to the queue. */
export async function enqueue(queue: SentItemsQueue, o: { messageId: string; marker?: string; external?: boolean; sender?: string }): Promise<void> {
  const copy = queue.startCopy();
  if (!copy) throw new Error('queue not open');
  copy.stream.resume();
  copy.stream.end(Buffer.from(signedMessage(o)));
  await queue.enqueue({ copy, tenantId: TENANT_ID, tenant: 'contoso', sender: o.sender ?? ALICE, messageId: o.messageId, external: o.external ?? true });
}

/** A counter's value for these labels in the registry's text output. */
export async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).filter((x) => Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val));
  return v.reduce((n, x) => n + x.value, 0);
}
