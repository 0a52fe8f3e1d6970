// Several relays, one config repository: two relay processes on loopback follow the same git
// remote (`--repo`), as a fleet behind one smart host name does. A commit is pushed while both
// carry mail; both must reach the new revision (git.head and a new config generation on
// /healthz), and no message either of them acknowledged during the reload may be lost.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFaultyNextHop, type FaultyNextHop } from '../fakes/faulty-next-hop.ts';
import { startGitRemote, type GitRemote } from '../fakes/git-remote.ts';
import { assertPromise } from './fault-case.ts';
import { configRepo, formatReplies, Ledger, LoadGenerator, mailMix, sleep, startRelay, until, type RelayChild } from './harness.ts';

const PULL_INTERVAL = 0.5;

interface Health {
  readonly config: { readonly generation: number; readonly lastReload?: { readonly ok: boolean } };
  readonly git?: { readonly head: string };
}

async function healthOf(relay: RelayChild): Promise<Health> {
  return (await (await fetch(`http://127.0.0.1:${relay.httpPort}/healthz`)).json()) as Health;
}

describe('reliability: two relays follow one config repository', { concurrency: 1 }, () => {
  let dir: string;
  let remote: GitRemote;
  let hop: FaultyNextHop;
  const relays: RelayChild[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-reliability-fleet-'));
    remote = await startGitRemote(dir, await configRepo(dir));
    hop = await startFaultyNextHop({ direct: true });
    for (const name of ['a', 'b']) {
      const own = join(dir, name); // each relay its own clone and state, as on two hosts
      await mkdir(own);
      relays.push(await startRelay({ dir: own, nextHop: hop, repo: { url: remote.url, pullInterval: PULL_INTERVAL }, deliverTimeout: 3 }));
    }
  });
  after(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await hop?.close();
    await remote?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a pushed commit reaches both; nothing sent to either during the reload is lost', { timeout: 60_000 }, async (t) => {
    const before = await Promise.all(relays.map(healthOf));
    const firstHead = before[0]!.git?.head;
    assert.ok(firstHead, '/healthz shows the revision served');
    assert.equal(before[1]!.git?.head, firstHead, 'both start on the same revision');

    const { messages } = await mailMix();
    const ledgers = relays.map((_, i) => new Ledger(`fleet${i}`));
    const loads = relays.map((r, i) => new LoadGenerator({ port: r.smtpPort, connections: 4, rate: 20, ledger: ledgers[i]!, mix: messages }).start());
    let newHead = '';
    try {
      await sleep(500);
      // A harmless change (a comment in a tenant file): a new revision for both to load.
      const file = join(remote.workDir, 'tenants', 'fabrikam.yaml');
      await writeFile(file, `${await readFile(file, 'utf8')}# fleet reload\n`);
      await remote.publish('fleet reload');
      newHead = (await remote.work.revparse(['HEAD'])).trim();
      assert.notEqual(newHead, firstHead);
      for (const [i, relay] of relays.entries()) {
        await until(async () => {
          const h = await healthOf(relay);
          return h.git?.head === newHead && h.config.generation > before[i]!.config.generation;
        }, `relay ${i} to serve ${newHead.slice(0, 7)}`, 20_000);
      }
      await sleep(1_000); // mail keeps flowing after the reload too
    } finally {
      await Promise.all(loads.map((l) => l.finish(30_000)));
    }

    for (const [i, relay] of relays.entries()) {
      const h = await healthOf(relay);
      assert.equal(h.git?.head, newHead, `relay ${i} serves the new revision`);
      assert.equal(h.config.lastReload?.ok, true, `relay ${i}'s last reload succeeded`);
      assert.equal(relay.exitCode(), null, `relay ${i} is still running`);
      const counts = ledgers[i]!.counts(hop);
      t.diagnostic(`relay ${i}: sent ${counts.sent}, delivered ${counts.delivered}, replies ${formatReplies(counts.replies)}`);
      assert.ok(counts.sent > 0, `mail was sent to relay ${i}`);
      assertPromise(counts);
      assert.equal(counts.lost, 0, `relay ${i}: nothing acknowledged was lost`);
      assert.equal(counts.gaveUp, 0, `relay ${i}: every message got an answer`);
      assert.equal(counts.acknowledged, counts.sent, `relay ${i}: every message was taken (replies: ${formatReplies(counts.replies)})`);
    }
  });
});
