// The failover note in the transport rule's Comments. `sigops failover` keeps its state there
// (when the fleet was first seen unhealthy, since when it holds the rule disabled, when it
// re-enabled it), so any runner (a CronJob, a scheduled workflow, a laptop) sees the same state
// without local files, and `sigops plan` and the drift report can show it. The note follows the
// sigops marker in the same `key: value; …` form:
//
//   managed-by: sigops; tenant: acme; failover: disabled; since: 2026-…Z; unhealthy-since: 2026-…Z; reason: …
//
// Everything before `; failover:` is the marker sigops manages; plan compares only that part.

/** What the note says about the rule. */
export type FailoverNote =
  /** The fleet failed its health checks since `since`; the rule is still enabled. */
  | { readonly state: 'unhealthy'; readonly since: string; readonly reason: string }
  /**
   * Failover disabled the rule at `since` (the fleet unhealthy since `unhealthySince`). With
   * `healthySince`: the fleet answers again since then; the rule is re-enabled once it has
   * stayed healthy long enough.
   */
  | { readonly state: 'disabled'; readonly since: string; readonly unhealthySince: string; readonly reason: string; readonly healthySince?: string }
  /** Failover re-enabled the rule at `at`, after holding it disabled since `disabledSince`: a trace of the last switch. */
  | { readonly state: 're-enabled'; readonly at: string; readonly disabledSince: string };

const NOTE_START = /;\s*failover:/i;

/** The Comments without the failover note (the marker sigops manages). */
export function withoutFailoverNote(comments: string): string {
  const m = NOTE_START.exec(comments);
  return m ? comments.slice(0, m.index).trimEnd() : comments;
}

/** The failover note as written after the marker (`; failover: …`), or '' when there is none. */
export function failoverNoteText(comments: string): string {
  const m = NOTE_START.exec(comments);
  return m ? comments.slice(m.index) : '';
}

/** Reads the note; undefined when there is none or it cannot be read (then it is ignored). */
export function parseFailoverNote(comments: string): FailoverNote | undefined {
  const text = failoverNoteText(comments);
  if (text === '') return undefined;
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    const i = part.indexOf(':');
    if (i > 0) fields.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  const time = (key: string): string | undefined => {
    const v = fields.get(key);
    return v !== undefined && !Number.isNaN(Date.parse(v)) ? v : undefined;
  };
  const reason = fields.get('reason') ?? '';
  switch (fields.get('failover')?.toLowerCase()) {
    case 'unhealthy': {
      const since = time('since');
      return since ? { state: 'unhealthy', since, reason } : undefined;
    }
    case 'disabled': {
      const since = time('since');
      if (!since) return undefined;
      const healthySince = time('healthy-since');
      return { state: 'disabled', since, unhealthySince: time('unhealthy-since') ?? since, reason, ...(healthySince ? { healthySince } : {}) };
    }
    case 're-enabled': {
      const at = time('at');
      return at ? { state: 're-enabled', at, disabledSince: time('disabled-since') ?? at } : undefined;
    }
    default:
      return undefined;
  }
}

/** Longest reason kept in the note: Comments are shown in the admin center, keep them short. */
const MAX_REASON = 160;

/** `marker` (the Comments without a note) with `note` after it. */
export function withFailoverNote(marker: string, note: FailoverNote | undefined): string {
  const base = withoutFailoverNote(marker);
  if (!note) return base;
  // `;` separates fields: a reason must not contain one.
  const clean = (s: string): string => s.replace(/[;\r\n]+/g, ',').slice(0, MAX_REASON).trim();
  const parts: string[] = [`failover: ${note.state}`];
  switch (note.state) {
    case 'unhealthy':
      parts.push(`since: ${note.since}`, `reason: ${clean(note.reason)}`);
      break;
    case 'disabled':
      parts.push(`since: ${note.since}`, `unhealthy-since: ${note.unhealthySince}`);
      if (note.healthySince) parts.push(`healthy-since: ${note.healthySince}`);
      parts.push(`reason: ${clean(note.reason)}`);
      break;
    case 're-enabled':
      parts.push(`at: ${note.at}`, `disabled-since: ${note.disabledSince}`);
      break;
  }
  return `${base}; ${parts.join('; ')}`;
}

/** One line for people: what the note says. */
export function describeFailoverNote(note: FailoverNote): string {
  switch (note.state) {
    case 'unhealthy':
      return `relay fleet unhealthy since ${note.since} (${note.reason}); the rule is still enabled`;
    case 'disabled':
      return (
        `rule disabled by failover since ${note.since} (relay fleet unhealthy since ${note.unhealthySince}: ${note.reason}); ` +
        (note.healthySince ? `the fleet answers again since ${note.healthySince}; ` : '') +
        'mail flows unsigned; apply keeps the rule disabled until `sigops failover` re-enables it'
      );
    case 're-enabled':
      return `failover re-enabled the rule at ${note.at} (it was disabled since ${note.disabledSince})`;
  }
}
