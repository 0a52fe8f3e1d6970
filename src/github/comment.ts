// The one plan comment on a pull request, Atlantis-style: found by a hidden marker, created once,
// then edited in place on every run. Comments are read through every page, so a long discussion
// cannot hide the existing one and cause a duplicate.
import { explainGitHubError, type GitHubClient } from './client.ts';
import { COMMENT_LIMIT, fitMarkdown } from './markdown.ts';

export const PLAN_MARKER = '<!-- sigops-plan -->';
const CHECKSUM_MARKER = /<!-- sigops-checksum: ([A-Za-z0-9:+/=_-]+) -->/;
const CHECKSUM_LINE = new RegExp(`^${CHECKSUM_MARKER.source}\n`);

export function checksumMarker(checksum: string): string {
  return `<!-- sigops-checksum: ${checksum} -->`;
}

/** The checksum recorded in a plan comment body, if it holds one. */
export function checksumFromComment(body: string): string | undefined {
  return CHECKSUM_MARKER.exec(body)?.[1];
}

/**
 * The markdown without its leading plan marker and the checksum marker after it: the job
 * summary shows the same report as the comment, without the hidden lines.
 */
export function withoutPlanMarkers(markdown: string): string {
  if (!markdown.startsWith(`${PLAN_MARKER}\n`)) return markdown;
  return markdown.slice(PLAN_MARKER.length + 1).replace(CHECKSUM_LINE, '');
}

export function isPlanComment(body: string | null | undefined): boolean {
  return typeof body === 'string' && body.trimStart().startsWith(PLAN_MARKER);
}

export interface PullRequestTarget {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly fromFork?: boolean;
}

export interface CommentResult {
  readonly action: 'created' | 'updated' | 'unchanged';
  readonly id: number;
  readonly url?: string;
  /** Older duplicates (from a race of two runs) that were deleted. */
  readonly removedDuplicates: number;
  /** The body was over GitHub's limit and was shortened. */
  readonly shortened: boolean;
}

interface IssueComment {
  id: number;
  body?: string | null;
  html_url?: string;
}

async function listPlanComments(client: GitHubClient, t: PullRequestTarget): Promise<IssueComment[]> {
  try {
    const all = await client.paginate(client.rest.issues.listComments, {
      owner: t.owner,
      repo: t.repo,
      issue_number: t.number,
      per_page: 100,
    });
    return all.filter((c) => isPlanComment(c.body)).sort((a, b) => a.id - b.id);
  } catch (err) {
    throw explainGitHubError(err, `list the comments of pull request #${t.number}`, {
      fromFork: t.fromFork,
      permission: 'pull-requests: read',
    });
  }
}

/** The current plan comment of a pull request, if any. */
export async function findPlanComment(client: GitHubClient, t: PullRequestTarget): Promise<IssueComment | undefined> {
  return (await listPlanComments(client, t))[0];
}

/**
 * Creates the plan comment, or edits the existing one. `body` is shortened to GitHub's limit
 * (with a note pointing at `fullTextAt`) and always starts with the marker.
 */
export async function upsertPlanComment(
  client: GitHubClient,
  t: PullRequestTarget,
  markdown: string,
  fullTextAt?: string,
): Promise<CommentResult> {
  const raw = markdown.trimStart().startsWith(PLAN_MARKER) ? markdown : `${PLAN_MARKER}\n${markdown}`;
  const body = fitMarkdown(
    raw,
    COMMENT_LIMIT,
    'GitHub limits a comment to 65,536 characters',
    fullTextAt ?? 'The job summary of this run has the full plan.',
  );
  const shortened = body !== raw;
  const existing = await listPlanComments(client, t);
  const [first, ...duplicates] = existing;
  const opts = { fromFork: t.fromFork, permission: 'pull-requests: write' };
  let result: Omit<CommentResult, 'removedDuplicates'>;
  if (!first) {
    try {
      const { data } = await client.rest.issues.createComment({ owner: t.owner, repo: t.repo, issue_number: t.number, body });
      result = { action: 'created', id: data.id, url: data.html_url, shortened };
    } catch (err) {
      throw explainGitHubError(err, `create the plan comment on pull request #${t.number}`, opts);
    }
  } else if (first.body === body) {
    result = { action: 'unchanged', id: first.id, ...(first.html_url ? { url: first.html_url } : {}), shortened };
  } else {
    try {
      const { data } = await client.rest.issues.updateComment({ owner: t.owner, repo: t.repo, comment_id: first.id, body });
      result = { action: 'updated', id: data.id, url: data.html_url, shortened };
    } catch (err) {
      throw explainGitHubError(err, `update the plan comment ${first.id} on pull request #${t.number}`, opts);
    }
  }
  for (const dup of duplicates) {
    try {
      await client.rest.issues.deleteComment({ owner: t.owner, repo: t.repo, comment_id: dup.id });
    } catch (err) {
      throw explainGitHubError(err, `delete the duplicate plan comment ${dup.id} on pull request #${t.number}`, opts);
    }
  }
  return { ...result, removedDuplicates: duplicates.length };
}

export interface MergedPlan {
  /** The merged pull request the commit came from. */
  readonly pullRequest?: number;
  /** The checksum of its last plan comment; undefined when it has no usable plan. */
  readonly checksum?: string;
  readonly note: string;
}

/**
 * The plan reviewed for the pull request whose merge produced `sha` (the push's commit), via
 * `GET /repos/{owner}/{repo}/commits/{sha}/pulls`.
 */
export async function mergedPlanChecksum(
  client: GitHubClient,
  repo: { owner: string; repo: string },
  sha: string,
): Promise<MergedPlan> {
  let pulls: { number: number; merged_at?: string | null; merge_commit_sha?: string | null }[];
  try {
    ({ data: pulls } = await client.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha }));
  } catch (err) {
    throw explainGitHubError(err, `find the pull request of commit ${sha.slice(0, 12)}`, {
      permission: 'pull-requests: read',
    });
  }
  const merged = pulls.filter((p) => p.merged_at);
  const pr = merged.find((p) => p.merge_commit_sha === sha) ?? merged[0];
  if (!pr) return { note: `commit ${sha.slice(0, 12)} does not come from a merged pull request` };
  const comment = await findPlanComment(client, { ...repo, number: pr.number });
  if (!comment?.body) return { pullRequest: pr.number, note: `pull request #${pr.number} has no sigops plan comment` };
  const checksum = checksumFromComment(comment.body);
  if (!checksum) {
    return { pullRequest: pr.number, note: `the plan comment of pull request #${pr.number} holds no plan checksum (its plan failed or the config was invalid)` };
  }
  return { pullRequest: pr.number, checksum, note: `checksum of the plan reviewed in pull request #${pr.number}` };
}
