// A fake of the parts of GitHub's REST API the sigops action uses, over real HTTP on 127.0.0.1:
// issue comments (list with Link-header pagination, create, update, delete), the pull requests
// of a commit, the files of a pull request and repository contents; for the directory sync, a
// small Git database (blobs, trees, commits, branch refs) and pull requests listed by head
// branch, opened and edited. Status codes and JSON
// shapes follow docs.github.com/rest: 401 "Bad credentials", 403 "Resource not accessible by
// integration" for a read-only token writing, 404 "Not Found", 422 "Validation Failed" for a
// comment body over 65,536 characters.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeComment {
  id: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface FakePullRequest {
  number: number;
  state: 'open' | 'closed';
  title?: string;
  body?: string | null;
  merged_at: string | null;
  merge_commit_sha: string | null;
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  /** Changed files, as GET /pulls/{n}/files lists them. */
  files: { filename: string; status: 'added' | 'modified' | 'removed' | 'renamed'; previous_filename?: string }[];
}

export interface RecordedRequest {
  method: string;
  path: string; // with query
  status: number;
  body?: unknown;
}

export interface FakeGitHubOptions {
  owner?: string;
  repo?: string;
  /** token → may it write? Read-only tokens get 403 on writes, like a fork's GITHUB_TOKEN. */
  tokens?: Record<string, 'write' | 'read'>;
  /** The login that writes comments. */
  botLogin?: string;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
  times: number;
}

export interface FakeGitHub {
  readonly url: string;
  readonly owner: string;
  readonly repo: string;
  readonly requests: RecordedRequest[];
  /** Comments by issue/PR number. */
  readonly comments: Map<number, FakeComment[]>;
  readonly pulls: Map<number, FakePullRequest>;
  /** File contents by `${ref}:${path}`. */
  readonly contents: Map<string, string>;
  /** Branch refs of the Git database: branch name → commit sha. */
  readonly branches: Map<string, string>;
  /** A commit on `branch` holding exactly `files` (path → text, or bytes for binary files), parent the branch's head; its sha. */
  commitFiles(branch: string, files: Record<string, string | Buffer>, message?: string): string;
  /** The files of a commit (path → text). */
  filesAt(commitSha: string): Map<string, string>;
  /** The files of a commit as stored (path → bytes): images survive. */
  bytesAt(commitSha: string): Map<string, Buffer>;
  commit(sha: string): FakeCommit | undefined;
  addPullRequest(pr: Partial<FakePullRequest> & { number: number }): FakePullRequest;
  addComment(issue: number, body: string, user?: string): FakeComment;
  /** The next `times` requests matching method+path answer `status` with `body`. */
  failNext(method: string, path: RegExp, status: number, body: unknown, times?: number): void;
  close(): Promise<void>;
}

export interface FakeCommit {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
}

const DOCS = 'https://docs.github.com/rest';

/** Git's own blob id (sha1 of "blob <size>\0" + bytes), so a client can compare files without fetching them. */
export function gitBlobSha(content: Buffer | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const owner = options.owner ?? 'acme';
  const repo = options.repo ?? 'signatures';
  const tokens = options.tokens ?? { 'ghs_write': 'write' };
  const bot = options.botLogin ?? 'github-actions[bot]';
  const requests: RecordedRequest[] = [];
  const comments = new Map<number, FakeComment[]>();
  const pulls = new Map<number, FakePullRequest>();
  const contents = new Map<string, string>();
  const faults: Fault[] = [];
  // The Git database: trees are kept flat (full path → blob sha); their and the commits' ids are
  // sha1s of their content here, not Git's encoding, which no client of this fake computes.
  const blobs = new Map<string, Buffer>();
  const trees = new Map<string, Map<string, string>>();
  const commits = new Map<string, FakeCommit>();
  const branches = new Map<string, string>();
  let commitCounter = 0;
  const putTree = (entries: Map<string, string>): string => {
    const sha = createHash('sha1').update(JSON.stringify([...entries].sort(([a], [b]) => (a < b ? -1 : 1)))).digest('hex');
    trees.set(sha, entries);
    return sha;
  };
  const putCommit = (tree: string, parents: string[], message: string): FakeCommit => {
    // A real commit id covers author and time too: two commits of the same tree differ.
    const sha = createHash('sha1').update(JSON.stringify({ tree, parents, message, n: ++commitCounter })).digest('hex');
    const c: FakeCommit = { sha, tree, parents, message };
    commits.set(sha, c);
    return c;
  };
  putTree(new Map());
  let nextId = 1_000_001;
  let clock = Date.parse('2026-11-20T10:00:00Z');
  const now = (): string => new Date((clock += 1000)).toISOString();
  let base = '';

  const commentJson = (issue: number, c: FakeComment): Record<string, unknown> => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${base}/repos/${owner}/${repo}/issues/comments/${c.id}`,
    html_url: `https://github.com/${owner}/${repo}/pull/${issue}#issuecomment-${c.id}`,
    issue_url: `${base}/repos/${owner}/${repo}/issues/${issue}`,
    body: c.body,
    user: { login: c.user, id: c.user === bot ? 41898282 : 1, type: c.user === bot ? 'Bot' : 'User' },
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: c.user === bot ? 'NONE' : 'MEMBER',
  });

  const prJson = (pr: FakePullRequest): Record<string, unknown> => ({
    url: `${base}/repos/${owner}/${repo}/pulls/${pr.number}`,
    id: 5_000_000 + pr.number,
    html_url: `https://github.com/${owner}/${repo}/pull/${pr.number}`,
    number: pr.number,
    state: pr.state,
    title: pr.title ?? `PR ${pr.number}`,
    body: pr.body ?? null,
    merged_at: pr.merged_at,
    merge_commit_sha: pr.merge_commit_sha,
    base: { ref: pr.base.ref, sha: pr.base.sha, repo: { full_name: `${owner}/${repo}` } },
    head: { ref: pr.head.ref, sha: pr.head.sha, label: `${owner}:${pr.head.ref}`, repo: { full_name: `${owner}/${repo}` } },
  });

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-github-request-id': `FAKE:${requests.length}`,
      ...headers,
    });
    res.end(text);
  }

  const error = (status: number, message: string, docs = DOCS, extra: Record<string, unknown> = {}) => ({
    message,
    ...extra,
    documentation_url: docs,
    status: String(status),
  });

  /** One page of `items` with GitHub's Link header. */
  function page(url: URL, items: unknown[]): { body: unknown[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
    const pageNo = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number): string => {
      const u = new URL(url.pathname + url.search, base);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(p));
      return u.toString();
    };
    const rels: string[] = [];
    if (pageNo > 1) rels.push(`<${link(pageNo - 1)}>; rel="prev"`, `<${link(1)}>; rel="first"`);
    if (pageNo < last) rels.push(`<${link(pageNo + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    return {
      body: items.slice((pageNo - 1) * perPage, pageNo * perPage),
      headers: rels.length ? { link: rels.join(', ') } : {},
    };
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length === 0) return undefined;
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return Symbol.for('invalid-json');
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      send(res, 500, error(500, `fake GitHub failed: ${(err as Error).message}`));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const record = (status: number): void => {
      requests.push({ method, path: url.pathname + url.search, status, ...(body !== undefined ? { body } : {}) });
    };
    const reply = (status: number, json: unknown, headers?: Record<string, string>): void => {
      record(status);
      send(res, status, json, headers);
    };

    const fault = faults.find((f) => f.method === method && f.path.test(url.pathname));
    if (fault) {
      if (--fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
      return reply(fault.status, fault.body);
    }

    const auth = req.headers.authorization;
    if (!auth) return reply(401, error(401, 'Requires authentication'));
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(auth)?.[1];
    const access = token !== undefined ? tokens[token] : undefined;
    if (!access) return reply(401, error(401, 'Bad credentials'));
    const write = method !== 'GET' && method !== 'HEAD';
    if (body === Symbol.for('invalid-json')) return reply(400, error(400, 'Problems parsing JSON'));

    const prefix = `/repos/${owner}/${repo}/`;
    if (!url.pathname.startsWith(prefix)) return reply(404, error(404, 'Not Found'));
    const rest = url.pathname.slice(prefix.length);
    let m: RegExpExecArray | null;

    if (write && access === 'read') {
      return reply(403, error(403, 'Resource not accessible by integration', `${DOCS}/issues/comments`));
    }

    if ((m = /^issues\/(\d+)\/comments$/.exec(rest))) {
      const issue = Number(m[1]);
      if (!pulls.has(issue) && !comments.has(issue)) return reply(404, error(404, 'Not Found'));
      const list = comments.get(issue) ?? [];
      if (method === 'GET') {
        const p = page(url, list.map((c) => commentJson(issue, c)));
        return reply(200, p.body, p.headers);
      }
      if (method === 'POST') {
        const text = (body as { body?: unknown } | undefined)?.body;
        if (typeof text !== 'string') {
          return reply(422, error(422, 'Invalid request.\n\n"body" wasn\'t supplied.', `${DOCS}/issues/comments#create-an-issue-comment`));
        }
        if (text.length > 65_536) return reply(422, tooLong());
        const t = now();
        const c: FakeComment = { id: nextId++, body: text, user: bot, created_at: t, updated_at: t };
        comments.set(issue, [...list, c]);
        return reply(201, commentJson(issue, c), { location: `${base}/repos/${owner}/${repo}/issues/comments/${c.id}` });
      }
      return reply(404, error(404, 'Not Found'));
    }

    if ((m = /^issues\/comments\/(\d+)$/.exec(rest))) {
      const id = Number(m[1]);
      for (const [issue, list] of comments) {
        const c = list.find((x) => x.id === id);
        if (!c) continue;
        if (method === 'GET') return reply(200, commentJson(issue, c));
        if (method === 'PATCH') {
          const text = (body as { body?: unknown } | undefined)?.body;
          if (typeof text !== 'string') return reply(422, error(422, 'Invalid request.\n\n"body" wasn\'t supplied.'));
          if (text.length > 65_536) return reply(422, tooLong());
          if (c.user !== bot) return reply(403, error(403, 'Resource not accessible by integration'));
          c.body = text;
          c.updated_at = now();
          return reply(200, commentJson(issue, c));
        }
        if (method === 'DELETE') {
          comments.set(issue, list.filter((x) => x.id !== id));
          record(204);
          res.writeHead(204);
          res.end();
          return;
        }
      }
      return reply(404, error(404, 'Not Found'));
    }

    if ((m = /^commits\/([0-9a-f]{7,40})\/pulls$/.exec(rest)) && method === 'GET') {
      const sha = m[1]!;
      const found = [...pulls.values()].filter(
        (p) => p.merge_commit_sha === sha || p.head.sha === sha || (p.merge_commit_sha?.startsWith(sha) ?? false),
      );
      const pg = page(url, found.map(prJson));
      return reply(200, pg.body, pg.headers);
    }

    if ((m = /^pulls\/(\d+)\/files$/.exec(rest)) && method === 'GET') {
      const pr = pulls.get(Number(m[1]));
      if (!pr) return reply(404, error(404, 'Not Found'));
      const pg = page(
        url,
        pr.files.map((f, i) => ({ sha: `f${i}`, additions: 1, deletions: 0, changes: 1, ...f })),
      );
      return reply(200, pg.body, pg.headers);
    }

    if ((m = /^contents\/(.+)$/.exec(rest)) && method === 'GET') {
      const path = decodeURIComponent(m[1]!);
      const ref = url.searchParams.get('ref') ?? 'main';
      const text = contents.get(`${ref}:${path}`);
      if (text === undefined) return reply(404, error(404, 'Not Found', `${DOCS}/repos/contents#get-repository-content`));
      return reply(200, {
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(text),
        name: path.split('/').pop(),
        path,
        content: Buffer.from(text).toString('base64').replace(/(.{60})/g, '$1\n'),
        sha: 'blob',
      });
    }

    // ---- Git database (https://docs.github.com/rest/git) ----------------------------------------
    if ((m = /^git\/ref\/(.+)$/.exec(rest)) && method === 'GET') {
      // "Get a reference" (docs.github.com/rest/git/refs#get-a-reference): 404 when the branch does not exist.
      const ref = decodeURIComponent(m[1]!);
      const branch = ref.startsWith('heads/') ? ref.slice('heads/'.length) : undefined;
      const sha = branch !== undefined ? branches.get(branch) : undefined;
      if (!sha) return reply(404, error(404, 'Not Found', `${DOCS}/git/refs#get-a-reference`));
      return reply(200, refJson(branch!, sha));
    }
    if (rest === 'git/refs' && method === 'POST') {
      // "Create a reference" (docs.github.com/rest/git/refs#create-a-reference): `ref` fully
      // qualified; 422 "Reference already exists" for an existing one, and for an unknown sha.
      const b = (body ?? {}) as { ref?: unknown; sha?: unknown };
      if (typeof b.ref !== 'string' || !/^refs\/heads\/.+/.test(b.ref) || typeof b.sha !== 'string') {
        return reply(422, error(422, 'Reference name is invalid', `${DOCS}/git/refs#create-a-reference`));
      }
      const branch = b.ref.slice('refs/heads/'.length);
      if (branches.has(branch)) return reply(422, error(422, 'Reference already exists', `${DOCS}/git/refs#create-a-reference`));
      if (!commits.has(b.sha)) return reply(422, error(422, 'Object does not exist', `${DOCS}/git/refs#create-a-reference`));
      branches.set(branch, b.sha);
      return reply(201, refJson(branch, b.sha));
    }
    if ((m = /^git\/refs\/(.+)$/.exec(rest)) && method === 'PATCH') {
      // "Update a reference" (docs.github.com/rest/git/refs#update-a-reference): without
      // `force: true` only a fast-forward is allowed (422 "Update is not a fast forward").
      const ref = decodeURIComponent(m[1]!);
      const branch = ref.startsWith('heads/') ? ref.slice('heads/'.length) : undefined;
      const b = (body ?? {}) as { sha?: unknown; force?: unknown };
      const current = branch !== undefined ? branches.get(branch) : undefined;
      if (!current) return reply(422, error(422, 'Reference does not exist', `${DOCS}/git/refs#update-a-reference`));
      if (typeof b.sha !== 'string' || !commits.has(b.sha)) return reply(422, error(422, 'Object does not exist', `${DOCS}/git/refs#update-a-reference`));
      if (b.force !== true && !isAncestor(current, b.sha)) {
        return reply(422, error(422, 'Update is not a fast forward', `${DOCS}/git/refs#update-a-reference`));
      }
      branches.set(branch!, b.sha);
      return reply(200, refJson(branch!, b.sha));
    }
    if ((m = /^git\/commits\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      // "Get a commit object" (docs.github.com/rest/git/commits#get-a-commit-object).
      const c = commits.get(m[1]!);
      if (!c) return reply(404, error(404, 'Not Found', `${DOCS}/git/commits#get-a-commit-object`));
      return reply(200, commitJson(c));
    }
    if (rest === 'git/commits' && method === 'POST') {
      // "Create a commit" (docs.github.com/rest/git/commits#create-a-commit): message and tree
      // required, parents optional; 422 when the tree or a parent does not exist.
      const b = (body ?? {}) as { message?: unknown; tree?: unknown; parents?: unknown };
      const parents = Array.isArray(b.parents) ? b.parents.filter((p): p is string => typeof p === 'string') : [];
      if (typeof b.message !== 'string' || typeof b.tree !== 'string' || !trees.has(b.tree) || parents.some((p) => !commits.has(p))) {
        return reply(422, error(422, 'Validation Failed', `${DOCS}/git/commits#create-a-commit`));
      }
      return reply(201, commitJson(putCommit(b.tree, parents, b.message)));
    }
    if (rest === 'git/blobs' && method === 'POST') {
      // "Create a blob" (docs.github.com/rest/git/blobs#create-a-blob): encoding utf-8 (default) or base64.
      const b = (body ?? {}) as { content?: unknown; encoding?: unknown };
      if (typeof b.content !== 'string') return reply(422, error(422, 'Invalid request.\n\n"content" wasn\'t supplied.', `${DOCS}/git/blobs#create-a-blob`));
      const bytes = b.encoding === 'base64' ? Buffer.from(b.content, 'base64') : Buffer.from(b.content, 'utf8');
      const sha = gitBlobSha(bytes);
      blobs.set(sha, bytes);
      return reply(201, { sha, url: `${base}/repos/${owner}/${repo}/git/blobs/${sha}` });
    }
    if ((m = /^git\/trees\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      // "Get a tree" (docs.github.com/rest/git/trees#get-a-tree): with `recursive`, every file
      // under it by full path; without, only the top level (sub-directories as "tree" entries).
      const t = trees.get(m[1]!);
      if (!t) return reply(404, error(404, 'Not Found', `${DOCS}/git/trees#get-a-tree`));
      const recursive = url.searchParams.has('recursive');
      const entries: Record<string, unknown>[] = [];
      const dirs = new Set<string>();
      for (const [path, sha] of [...t].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (!recursive && path.includes('/')) {
          dirs.add(path.slice(0, path.indexOf('/')));
          continue;
        }
        entries.push({ path, mode: '100644', type: 'blob', sha, size: blobs.get(sha)?.length ?? 0, url: `${base}/repos/${owner}/${repo}/git/blobs/${sha}` });
      }
      for (const d of dirs) entries.push({ path: d, mode: '040000', type: 'tree', sha: createHash('sha1').update(`${m[1]}/${d}`).digest('hex') });
      return reply(200, { sha: m[1], url: `${base}/repos/${owner}/${repo}/git/trees/${m[1]}`, tree: entries, truncated: false });
    }
    if (rest === 'git/trees' && method === 'POST') {
      // "Create a tree" (docs.github.com/rest/git/trees#create-a-tree): entries change `base_tree`
      // (path + mode + type + either sha or content; sha null deletes); 422 for an unknown sha
      // or base tree, or for deleting a file that does not exist.
      const b = (body ?? {}) as { base_tree?: unknown; tree?: unknown };
      const doc = `${DOCS}/git/trees#create-a-tree`;
      const baseTree = typeof b.base_tree === 'string' ? trees.get(b.base_tree) : new Map<string, string>();
      if (!baseTree || !Array.isArray(b.tree)) return reply(422, error(422, 'Invalid tree info', doc));
      const next = new Map(baseTree);
      for (const e of b.tree as { path?: unknown; mode?: unknown; type?: unknown; sha?: unknown; content?: unknown }[]) {
        if (typeof e.path !== 'string' || e.mode !== '100644' || e.type !== 'blob') return reply(422, error(422, 'Invalid tree info', doc));
        if (e.sha === null) {
          if (!next.delete(e.path)) return reply(422, error(422, 'Invalid tree info', doc));
        } else if (typeof e.sha === 'string') {
          if (!blobs.has(e.sha)) return reply(422, error(422, 'Invalid tree info', doc));
          next.set(e.path, e.sha);
        } else if (typeof e.content === 'string') {
          const bytes = Buffer.from(e.content, 'utf8');
          const sha = gitBlobSha(bytes);
          blobs.set(sha, bytes);
          next.set(e.path, sha);
        } else return reply(422, error(422, 'Invalid tree info', doc));
      }
      const sha = putTree(next);
      return reply(201, { sha, url: `${base}/repos/${owner}/${repo}/git/trees/${sha}`, tree: [...next].map(([path, s]) => ({ path, mode: '100644', type: 'blob', sha: s })), truncated: false });
    }

    // ---- Pull requests (https://docs.github.com/rest/pulls/pulls) -----------------------------
    if (rest === 'pulls' && method === 'GET') {
      // "List pull requests": state (default open), head as "owner:branch", base; paginated.
      const state = url.searchParams.get('state') ?? 'open';
      const head = url.searchParams.get('head');
      const baseRef = url.searchParams.get('base');
      const found = [...pulls.values()].filter(
        (p) =>
          (state === 'all' || p.state === state) &&
          (head === null || head === `${owner}:${p.head.ref}` || (!head.includes(':') && head === owner)) &&
          (baseRef === null || p.base.ref === baseRef),
      );
      const pg = page(url, found.sort((a, b) => b.number - a.number).map(prJson));
      return reply(200, pg.body, pg.headers);
    }
    if (rest === 'pulls' && method === 'POST') {
      // "Create a pull request": 422 Validation Failed when head is not a branch, when it has no
      // commits the base lacks, or when an open pull request for head → base already exists.
      const b = (body ?? {}) as { title?: unknown; head?: unknown; base?: unknown; body?: unknown };
      const doc = `${DOCS}/pulls/pulls#create-a-pull-request`;
      if (typeof b.title !== 'string' || typeof b.head !== 'string' || typeof b.base !== 'string') {
        return reply(422, error(422, 'Validation Failed', doc, { errors: [{ resource: 'PullRequest', code: 'missing_field' }] }));
      }
      const headRef = b.head.includes(':') ? b.head.slice(b.head.indexOf(':') + 1) : b.head;
      const headSha = branches.get(headRef);
      const baseSha = branches.get(b.base);
      if (!headSha || !baseSha) return reply(422, error(422, 'Validation Failed', doc, { errors: [{ resource: 'PullRequest', field: headSha ? 'base' : 'head', code: 'invalid' }] }));
      if (isAncestor(headSha, baseSha)) {
        return reply(422, error(422, 'Validation Failed', doc, { errors: [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${b.base} and ${headRef}` }] }));
      }
      if ([...pulls.values()].some((p) => p.state === 'open' && p.head.ref === headRef && p.base.ref === b.base)) {
        return reply(422, error(422, 'Validation Failed', doc, { errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${headRef}.` }] }));
      }
      const number = Math.max(0, ...pulls.keys(), ...comments.keys()) + 1;
      const pr: FakePullRequest = {
        number,
        state: 'open',
        title: b.title,
        body: typeof b.body === 'string' ? b.body : null,
        merged_at: null,
        merge_commit_sha: null,
        base: { ref: b.base, sha: baseSha },
        head: { ref: headRef, sha: headSha },
        files: [],
      };
      pulls.set(number, pr);
      comments.set(number, []);
      return reply(201, prJson(pr), { location: `${base}/repos/${owner}/${repo}/pulls/${number}` });
    }
    if ((m = /^pulls\/(\d+)$/.exec(rest)) && (method === 'GET' || method === 'PATCH')) {
      // "Get a pull request" / "Update a pull request" (title, body, state open|closed).
      const pr = pulls.get(Number(m[1]));
      if (!pr) return reply(404, error(404, 'Not Found'));
      if (method === 'PATCH') {
        const b = (body ?? {}) as { title?: unknown; body?: unknown; state?: unknown };
        if (typeof b.title === 'string') pr.title = b.title;
        if (typeof b.body === 'string') pr.body = b.body;
        if (b.state === 'open' || b.state === 'closed') pr.state = b.state;
      }
      // The head follows its branch, as on GitHub after a push.
      pr.head.sha = branches.get(pr.head.ref) ?? pr.head.sha;
      return reply(200, prJson(pr));
    }

    return reply(404, error(404, 'Not Found'));
  }

  function refJson(branch: string, sha: string): Record<string, unknown> {
    return {
      ref: `refs/heads/${branch}`,
      node_id: `REF_${branch}`,
      url: `${base}/repos/${owner}/${repo}/git/refs/heads/${branch}`,
      object: { type: 'commit', sha, url: `${base}/repos/${owner}/${repo}/git/commits/${sha}` },
    };
  }

  function commitJson(c: FakeCommit): Record<string, unknown> {
    return {
      sha: c.sha,
      url: `${base}/repos/${owner}/${repo}/git/commits/${c.sha}`,
      message: c.message,
      tree: { sha: c.tree, url: `${base}/repos/${owner}/${repo}/git/trees/${c.tree}` },
      parents: c.parents.map((p) => ({ sha: p, url: `${base}/repos/${owner}/${repo}/git/commits/${p}` })),
    };
  }

  /** Whether `ancestor` is `sha` or reachable from it through parents. */
  function isAncestor(ancestor: string, sha: string): boolean {
    const queue = [sha];
    const seen = new Set<string>();
    while (queue.length) {
      const s = queue.pop()!;
      if (s === ancestor) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      queue.push(...(commits.get(s)?.parents ?? []));
    }
    return false;
  }

  function tooLong(): unknown {
    return error(422, 'Validation Failed', `${DOCS}/issues/comments#create-an-issue-comment`, {
      errors: [
        { resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' },
      ],
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const bytesAt = (commitSha: string): Map<string, Buffer> => {
    const c = commits.get(commitSha);
    const t = c ? trees.get(c.tree) : undefined;
    if (!t) throw new Error(`fake GitHub: no commit ${commitSha}`);
    return new Map([...t].map(([path, sha]) => [path, blobs.get(sha)!]));
  };
  return {
    url: base,
    owner,
    repo,
    requests,
    comments,
    pulls,
    contents,
    branches,
    commitFiles(branch, files, message = 'seed') {
      const entries = new Map<string, string>();
      for (const [path, text] of Object.entries(files)) {
        const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
        const sha = gitBlobSha(bytes);
        blobs.set(sha, bytes);
        entries.set(path, sha);
      }
      const parent = branches.get(branch);
      const c = putCommit(putTree(entries), parent ? [parent] : [], message);
      branches.set(branch, c.sha);
      return c.sha;
    },
    filesAt(commitSha) {
      return new Map([...bytesAt(commitSha)].map(([path, bytes]) => [path, bytes.toString('utf8')]));
    },
    bytesAt,
    commit: (sha) => commits.get(sha),
    addPullRequest(pr) {
      const full: FakePullRequest = {
        state: 'open',
        merged_at: null,
        merge_commit_sha: null,
        base: { ref: 'main', sha: 'b'.repeat(40) },
        head: { ref: `feature-${pr.number}`, sha: 'c'.repeat(40) },
        files: [],
        ...pr,
      };
      pulls.set(full.number, full);
      if (!comments.has(full.number)) comments.set(full.number, []);
      return full;
    },
    addComment(issue, body, user = 'octocat') {
      const t = now();
      const c: FakeComment = { id: nextId++, body, user, created_at: t, updated_at: t };
      comments.set(issue, [...(comments.get(issue) ?? []), c]);
      return c;
    },
    failNext(method, path, status, body, times = 1) {
      faults.push({ method, path, status, body, times });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
