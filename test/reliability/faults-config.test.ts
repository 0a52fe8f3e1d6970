// Faults of the config repository, under load, with the relay deployed as documented: `--repo`
// (a git remote it clones and fetches every --pull-interval). The remote refusing connections,
// the remote black-holing (a fetch that never gets an answer), and a broken commit pushed to it.
// Mail must keep flowing on the last good config the whole time, and a good commit pushed once
// the remote is back must be served.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startFaultyNextHop, type FaultyNextHop } from '../fakes/faulty-next-hop.ts';
import { startGitRemote, type GitRemote } from '../fakes/git-remote.ts';
import { assertPromise, CONNECTIONS, DELIVER_TIMEOUT, faultRow, RATE, WINDOW_MS } from './fault-case.ts';
import {
  byLength, configRepo, formatReplies, health, Ledger, LoadGenerator, mailMix, recordFigures, sleep, startRelay, until,
  type Counts, type RelayChild,
} from './harness.ts';

const TIMEOUT = byLength(90_000, 600_000);
const PULL_INTERVAL = byLength(0.5, 2);

describe('reliability: the config repository fails', { concurrency: 1 }, () => {
  let dir: string;
  let remote: GitRemote;
  let hop: FaultyNextHop;
  let relay: RelayChild;
  let mix: readonly Buffer[];
  let touched = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-reliability-config-'));
    remote = await startGitRemote(dir, await configRepo(dir));
    hop = await startFaultyNextHop({ direct: true });
    relay = await startRelay({ dir, nextHop: hop, repo: { url: remote.url, pullInterval: PULL_INTERVAL }, deliverTimeout: DELIVER_TIMEOUT });
    mix = (await mailMix()).messages;
  });
  after(async () => {
    await relay?.stop();
    await hop?.close();
    await remote?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Load through the relay while `during` runs; the case's figures. */
  async function underLoad(t: TestContext, name: string, run: string, during: () => Promise<void>): Promise<Counts> {
    const ledger = new Ledger(run);
    const load = new LoadGenerator({ port: relay.smtpPort, connections: CONNECTIONS, rate: RATE, ledger, mix }).start();
    try {
      await sleep(byLength(500, 5_000));
      await during();
      await sleep(byLength(500, 5_000));
    } finally {
      await load.finish(byLength(30_000, 90_000));
    }
    const counts = ledger.counts(hop);
    const row = faultRow(name, counts);
    recordFigures('faults', row);
    t.diagnostic(`${name}: ${Object.entries(row).slice(1).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return counts;
  }

  /**
   * Waits until the config generation has stopped moving: a pull that moves HEAD reloads, and
   * the file watcher, seeing the same change, reloads once more.
   */
  async function settled(): Promise<number> {
    let last = (await health(relay)).generation;
    for (;;) {
      await sleep(PULL_INTERVAL * 1000 + 500); // a pull, the watcher's 300 ms quiet time, the load
      const now = (await health(relay)).generation;
      if (now === last) return now;
      last = now;
    }
  }

  /** A harmless good commit (a comment in a tenant file); resolves once the relay serves it. */
  async function goodCommitServed(what: string, timeoutMs: number): Promise<void> {
    const generation = await settled();
    const file = join(remote.workDir, 'tenants', 'fabrikam.yaml');
    await writeFile(file, `${await readFile(file, 'utf8')}# touched ${++touched}\n`);
    await remote.publish(`touch ${touched}`);
    await until(async () => (await health(relay)).generation > generation, what, timeoutMs);
    await settled();
  }

  const mailUnaffected = (c: Counts): void => {
    assertPromise(c);
    assert.equal(c.deferred + c.noAnswer, 0, `mail was not held up (replies: ${formatReplies(c.replies)})`);
  };

  it('the remote refuses connections: mail flows on the last good config; a later commit arrives', { timeout: TIMEOUT }, async (t) => {
    await settled();
    const counts = await underLoad(t, 'config remote unreachable (refused)', 'cfgdown', async () => {
      const failed = relay.logCounts.get('config pull failed; keeping the current clone') ?? 0;
      const { generation } = await health(relay);
      await remote.network.set('down');
      try {
        await sleep(WINDOW_MS);
        assert.ok((relay.logCounts.get('config pull failed; keeping the current clone') ?? 0) > failed, 'the pulls failed');
        assert.equal((await health(relay)).generation, generation, 'the config serving did not change');
      } finally {
        await remote.network.set('none');
      }
    });
    mailUnaffected(counts);
    await goodCommitServed('a commit pushed after the remote came back', 15_000);
  });

  it('a broken commit is refused; the last good config keeps serving; the fix is served', { timeout: TIMEOUT }, async (t) => {
    await settled();
    const counts = await underLoad(t, 'broken commit pushed', 'cfgbroken', async () => {
      const { generation } = await health(relay);
      const file = join(remote.workDir, 'tenants', 'contoso.yaml');
      const good = await readFile(file, 'utf8');
      await writeFile(file, good.replace('enabled: true', 'enabled: true\nfrobnicate: yes'));
      await remote.publish('broken');
      try {
        await until(async () => (await health(relay)).lastReload?.ok === false, 'the broken commit to be refused', 15_000);
        const h = await health(relay);
        assert.equal(h.generation, generation, 'the last good config keeps serving');
        assert.match((h.lastReload?.errors ?? []).join('\n'), /tenants\/contoso\.yaml:\d+:\d+ /);
        await sleep(WINDOW_MS);
      } finally {
        await writeFile(file, good);
        await remote.publish('fixed');
      }
      await until(async () => (await health(relay)).generation > generation, 'the fix to be served', 15_000);
    });
    mailUnaffected(counts);
  });

  it('the remote black-holes (fetch never answered): mail flows; a commit after it is back arrives', { timeout: TIMEOUT }, async (t) => {
    await settled();
    const counts = await underLoad(t, 'config remote unreachable (black hole)', 'cfghole', async () => {
      const { generation } = await health(relay);
      await remote.network.set('black-hole');
      try {
        await sleep(WINDOW_MS);
        assert.equal((await health(relay)).generation, generation, 'the config serving did not change');
      } finally {
        await remote.network.set('none');
      }
    });
    mailUnaffected(counts);
    await goodCommitServed('a commit pushed after the remote came back', byLength(30_000, 120_000));
  });
});
