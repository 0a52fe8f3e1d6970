// The scheduled directory sync's one pull request: the refreshed snapshot files go to one branch
// (a commit on the checked-out base, force-pushed) through GitHub's Git database API, and one
// open pull request from that branch is opened or edited. Nothing is written when the branch
// already holds exactly these files on this base, so a night without changes leaves no trace.
//
// REST endpoints (docs.github.com/rest): git/refs (get, create, update with force), git/commits
// (get, create), git/trees (get recursive, create on a base tree), git/blobs (create), pulls
// (list by head, create, update). No git binary and no checkout credentials are needed.
import { createHash } from 'node:crypto';
import { explainGitHubError, type GitHubClient } from './client.ts';

export interface SnapshotFile {
  /** Repository-relative posix path. */
  readonly path: string;
  readonly content: Buffer;
  /** Differs from the base commit's file (the sync rewrote it); unchanged files come with the base tree. */
  readonly changed: boolean;
}

export interface DirectoryPullRequestTarget {
  readonly owner: string;
  readonly repo: string;
  /** The branch the pull request goes into (the one the run checked out). */
  readonly base: string;
  /** The commit the run checked out: the new commit's parent. */
  readonly baseSha: string;
  /** The sync's own branch, force-pushed on every change. */
  readonly branch: string;
}

export interface DirectoryPullRequestContent {
  readonly title: string;
  readonly body: string;
  readonly commitMessage: string;
  /** Every snapshot the sync looked at, changed or not: the branch must hold exactly these. */
  readonly files: readonly SnapshotFile[];
}

export type DirectoryPullRequestResult =
  | { readonly action: 'created' | 'updated'; readonly number: number; readonly url: string; readonly commit: string }
  | { readonly action: 'unchanged'; readonly number: number; readonly url: string };

/** Git's blob id of some bytes: what a tree lists for a file, so files compare without fetching them. */
export function gitBlobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

interface OpenPullRequest {
  readonly number: number;
  readonly url: string;
}

async function call<T>(what: string, fn: () => Promise<T>, permission: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explainGitHubError(err, what, { permission });
  }
}

/** The open pull request from the sync's branch into the base (GET /pulls?head=owner:branch&base=…). */
export async function findOpenPullRequest(gh: GitHubClient, t: DirectoryPullRequestTarget): Promise<OpenPullRequest | undefined> {
  const { data } = await call(
    `list the open pull requests from ${t.branch}`,
    () => gh.rest.pulls.list({ owner: t.owner, repo: t.repo, state: 'open', head: `${t.owner}:${t.branch}`, base: t.base, per_page: 10 }),
    'pull-requests: read',
  );
  const pr = data[0];
  return pr ? { number: pr.number, url: pr.html_url } : undefined;
}

/** The branch's head commit, undefined when the branch does not exist (404). */
async function branchHead(gh: GitHubClient, t: DirectoryPullRequestTarget): Promise<string | undefined> {
  try {
    const { data } = await gh.rest.git.getRef({ owner: t.owner, repo: t.repo, ref: `heads/${t.branch}` });
    return data.object.sha;
  } catch (err) {
    if ((err as { status?: unknown }).status === 404) return undefined;
    throw explainGitHubError(err, `read the branch ${t.branch}`, { permission: 'contents: read' });
  }
}

/** Whether the commit sits on the base and holds these files exactly. */
async function holds(gh: GitHubClient, t: DirectoryPullRequestTarget, commitSha: string, files: readonly SnapshotFile[]): Promise<boolean> {
  const { data: commit } = await call(`read commit ${commitSha}`, () => gh.rest.git.getCommit({ owner: t.owner, repo: t.repo, commit_sha: commitSha }), 'contents: read');
  if (commit.parents.length !== 1 || commit.parents[0]!.sha !== t.baseSha) return false;
  const { data: tree } = await call(
    `read the tree of ${t.branch}`,
    () => gh.rest.git.getTree({ owner: t.owner, repo: t.repo, tree_sha: commit.tree.sha, recursive: 'true' }),
    'contents: read',
  );
  if (tree.truncated) return false; // cannot tell: push again, harmless
  const shas = new Map(tree.tree.map((e) => [e.path ?? '', e.sha ?? '']));
  return files.every((f) => shas.get(f.path) === gitBlobSha(f.content));
}

/**
 * Makes the sync's branch hold `files` on top of the base and opens, or edits, the one pull
 * request from it. The caller only comes here when a snapshot differs from the base.
 */
export async function publishDirectoryPullRequest(
  gh: GitHubClient,
  t: DirectoryPullRequestTarget,
  content: DirectoryPullRequestContent,
): Promise<DirectoryPullRequestResult> {
  const { owner, repo } = t;
  const open = await findOpenPullRequest(gh, t);
  const head = await branchHead(gh, t);
  // Tonight's directory is what the branch already proposes: no push. Without an open pull
  // request (closed unmerged, or the last run could not open it) one is opened again: the
  // directory still differs from the base, and the pull request is where that is seen.
  const current = head !== undefined && (await holds(gh, t, head, content.files));
  if (current && open) return { action: 'unchanged', ...open };
  const commitSha = current ? head : await pushCommit(gh, t, content, head);
  if (open) {
    await call(
      `update pull request #${open.number}`,
      () => gh.rest.pulls.update({ owner, repo, pull_number: open.number, title: content.title, body: content.body }),
      'pull-requests: write',
    );
    return { action: 'updated', ...open, commit: commitSha };
  }
  const { data: pr } = await call(
    `open a pull request from ${t.branch} into ${t.base}`,
    () => gh.rest.pulls.create({ owner, repo, head: t.branch, base: t.base, title: content.title, body: content.body }),
    'pull-requests: write',
  );
  return { action: 'created', number: pr.number, url: pr.html_url, commit: commitSha };
}

/** One commit on the base holding the files, and the branch pointing at it; its sha. */
async function pushCommit(gh: GitHubClient, t: DirectoryPullRequestTarget, content: DirectoryPullRequestContent, head: string | undefined): Promise<string> {
  const { owner, repo } = t;
  const { data: baseCommit } = await call(`read the base commit ${t.baseSha}`, () => gh.rest.git.getCommit({ owner, repo, commit_sha: t.baseSha }), 'contents: read');
  const entries: { path: string; mode: '100644'; type: 'blob'; sha: string }[] = [];
  for (const f of content.files.filter((x) => x.changed)) {
    // base64: a snapshot is UTF-8 text, but the bytes go up exactly as they are on disk.
    const { data: blob } = await call(
      `upload ${f.path}`,
      () => gh.rest.git.createBlob({ owner, repo, content: f.content.toString('base64'), encoding: 'base64' }),
      'contents: write',
    );
    entries.push({ path: f.path, mode: '100644', type: 'blob', sha: blob.sha });
  }
  const { data: tree } = await call('create the tree', () => gh.rest.git.createTree({ owner, repo, base_tree: baseCommit.tree.sha, tree: entries }), 'contents: write');
  const { data: commit } = await call(
    'create the commit',
    () => gh.rest.git.createCommit({ owner, repo, message: content.commitMessage, tree: tree.sha, parents: [t.baseSha] }),
    'contents: write',
  );
  await call(
    `push the branch ${t.branch}`,
    async () => {
      if (head === undefined) await gh.rest.git.createRef({ owner, repo, ref: `refs/heads/${t.branch}`, sha: commit.sha });
      // The branch is the sync's own: it always restarts from the base, so the push is forced.
      else await gh.rest.git.updateRef({ owner, repo, ref: `heads/${t.branch}`, sha: commit.sha, force: true });
    },
    'contents: write',
  );
  return commit.sha;
}

/** Closes the sync's open pull request when the base already matches the directory again. */
export async function closeDirectoryPullRequest(gh: GitHubClient, t: DirectoryPullRequestTarget, note: string): Promise<OpenPullRequest | undefined> {
  const open = await findOpenPullRequest(gh, t);
  if (!open) return undefined;
  await call(
    `comment on pull request #${open.number}`,
    () => gh.rest.issues.createComment({ owner: t.owner, repo: t.repo, issue_number: open.number, body: note }),
    'pull-requests: write',
  );
  await call(
    `close pull request #${open.number}`,
    () => gh.rest.pulls.update({ owner: t.owner, repo: t.repo, pull_number: open.number, state: 'closed' }),
    'pull-requests: write',
  );
  return open;
}
