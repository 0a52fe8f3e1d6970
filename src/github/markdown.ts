// Keeping markdown under a size limit without breaking it: GitHub refuses an issue comment over
// 65,536 characters (422 "body is too long") and a step summary over 1 MiB. Text is cut at a
// line boundary, an open code fence or <details> is closed, and a note says what was left out.

/** GitHub's limit for an issue or pull request comment body, in characters. */
export const COMMENT_LIMIT = 65_536;

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

/** Fences and <details> still open at the end of `text`, in opening order. */
function openStructures(text: string): string[] {
  const open: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const m = FENCE.exec(line);
    if (fence !== undefined) {
      if (m && m[1]!.startsWith(fence[0]!) && m[1]!.length >= fence.length && line.trim() === m[1]) {
        fence = undefined;
        open.pop();
      }
      continue;
    }
    if (m) {
      fence = m[1]!;
      open.push(fence);
      continue;
    }
    for (const tag of line.matchAll(/<(\/?)details\b[^>]*>/gi)) {
      if (tag[1] === '/') {
        const i = open.lastIndexOf('details');
        if (i >= 0) open.splice(i, 1);
      } else {
        open.push('details');
      }
    }
  }
  return open;
}

function closers(open: string[]): string {
  return open
    .slice()
    .reverse()
    .map((o) => (o === 'details' ? '\n</details>\n' : `\n${o}\n`))
    .join('');
}

/**
 * `text` when it fits in `max` characters, else its head cut at a line boundary with open
 * structures closed and a note (`why`, plus `where` the full text is) appended.
 */
export function fitMarkdown(text: string, max: number, why: string, where?: string): string {
  if (text.length <= max) return text;
  const noteFor = (omitted: number): string =>
    `\n\n> [!NOTE]\n> Shortened: ${omitted.toLocaleString('en-US')} characters left out because ${why}.` +
    (where ? ` ${where}` : '') +
    '\n';
  // Reserve room for the note and for closing whatever the cut leaves open.
  let budget = max - noteFor(text.length).length - 200;
  for (;;) {
    if (budget <= 0) return noteFor(text.length).trimStart().slice(0, max);
    let cut = text.lastIndexOf('\n', budget);
    if (cut <= 0) cut = budget;
    const head = text.slice(0, cut);
    const out = head + closers(openStructures(head)) + noteFor(text.length - cut);
    if (out.length <= max) return out;
    budget -= out.length - max + 16;
  }
}

/** A fenced code block that no content line can close early. */
export function codeBlock(content: string, lang = ''): string {
  let fence = '```';
  for (const m of content.matchAll(/`{3,}/g)) if (m[0].length >= fence.length) fence = '`'.repeat(m[0].length + 1);
  return `${fence}${lang}\n${content.replace(/\n$/, '')}\n${fence}`;
}

/** Escapes text for a markdown table cell or inline position. */
export function inline(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}
