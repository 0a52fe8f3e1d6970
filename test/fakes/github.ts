// A fake of the parts of GitHub's REST API the sigops action uses, over real HTTP on 127.0.0.1:
// issue comments (list with Link-header pagination, create, update, delete), the pull requests
// of a commit, the files of a pull request and repository contents. Status codes and JSON
// shapes follow docs.github.com/rest: 401 "Bad credentials", 403 "Resource not accessible by
// integration" for a read-only token writing, 404 "Not Found", 422 "Validation Failed" for a
// comment body over 65,536 characters.
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
  addPullRequest(pr: Partial<FakePullRequest> & { number: number }): FakePullRequest;
  addComment(issue: number, body: string, user?: string): FakeComment;
  /** The next `times` requests matching method+path answer `status` with `body`. */
  failNext(method: string, path: RegExp, status: number, body: unknown, times?: number): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

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
    number: pr.number,
    state: pr.state,
    title: `PR ${pr.number}`,
    merged_at: pr.merged_at,
    merge_commit_sha: pr.merge_commit_sha,
    base: { ref: pr.base.ref, sha: pr.base.sha, repo: { full_name: `${owner}/${repo}` } },
    head: { ref: pr.head.ref, sha: pr.head.sha, repo: { full_name: `${owner}/${repo}` } },
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

    return reply(404, error(404, 'Not Found'));
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

  return {
    url: base,
    owner,
    repo,
    requests,
    comments,
    pulls,
    contents,
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
