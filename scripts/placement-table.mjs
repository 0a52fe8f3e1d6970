// Prints the placement coverage table of docs/signing.md from the fixture set in
// test/fixtures/placement/<client>/<language>[-<variant>].<txt|html>: per client, the languages
// it has fixtures for in plain text and in HTML, then per language, the clients. Run:
//   node scripts/placement-table.mjs            (Markdown to stdout)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', 'test', 'fixtures', 'placement');

/** "zh-Hans-r.txt" → zh-Hans; "fi-r-wrapped.txt" → fi; "pt-BR.html" → pt-BR. */
function language(file) {
  const m = /^([a-z]{2,3}(?:-(?:[A-Z][a-z]{3}|[A-Z]{2}|\d{3}))?)(?=[-_.])/.exec(file);
  return m ? m[1] : file.replace(/\..*$/, '');
}

const byClient = new Map();
let total = 0;
for (const client of readdirSync(ROOT).sort()) {
  const dir = join(ROOT, client);
  if (!statSync(dir).isDirectory()) continue;
  const entry = { text: new Set(), html: new Set(), count: 0 };
  for (const file of readdirSync(dir)) {
    const fmt = file.endsWith('.html') ? 'html' : file.endsWith('.txt') ? 'text' : undefined;
    if (!fmt) continue;
    entry[fmt].add(language(file));
    entry.count++;
    total++;
  }
  byClient.set(client, entry);
}

const list = (set) => [...set].sort().join(', ') || '—';
const out = [];
out.push(`${total} fixtures, ${byClient.size} clients.`, '');
out.push('| client | fixtures | plain text | HTML |', '|---|---:|---|---|');
for (const [client, e] of byClient) out.push(`| ${client} | ${e.count} | ${list(e.text)} | ${list(e.html)} |`);
out.push('');

const byLanguage = new Map();
for (const [client, e] of byClient) {
  if (client === 'negatives') continue;
  for (const fmt of ['text', 'html']) {
    for (const lang of e[fmt]) {
      if (!byLanguage.has(lang)) byLanguage.set(lang, { text: new Set(), html: new Set() });
      byLanguage.get(lang)[fmt].add(client);
    }
  }
}
out.push('| language | clients, plain text | clients, HTML |', '|---|---|---|');
for (const lang of [...byLanguage.keys()].sort()) {
  const e = byLanguage.get(lang);
  out.push(`| ${lang} | ${e.text.size} | ${e.html.size} |`);
}
console.log(out.join('\n'));
