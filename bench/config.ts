// Benchmark of the config core: validate (loadConfigRepo) and compilePolicy on a generated
// config of 1,000 tenants × 20 rules and 50,000 directory users, plus decide() on the hot
// path. Baseline, measured in the same run on the same files: reading them and a plain
// YAML.parse (no positions, no schema, no cross-file checks).
//
//   npm run bench:config            (or: node --import tsx bench/config.ts [--runs N] [--write])
//
// --write records the report in bench/results/config.md.
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { loadConfigRepo } from '../src/config/index.ts';
import { compilePolicy } from '../src/policy/index.ts';
import type { ConfigRepo } from '../src/model/index.ts';

const TENANTS = 1000;
const RULES = 20;
const USERS = 50_000;
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 0) > 0 && args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 5;

const DEPARTMENTS = ['Sales', 'Engineering', 'Finance', 'Support', 'Marketing', 'Legal', 'HR', 'Operations'];

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function generate(root: string): { files: string[]; bytes: number } {
  mkdirSync(join(root, 'tenants'), { recursive: true });
  mkdirSync(join(root, 'templates'));
  mkdirSync(join(root, 'directory'));
  writeFileSync(join(root, 'templates', 'standard.html.hbs'), readFileSync('example-config/templates/standard.html.hbs'));
  writeFileSync(join(root, 'templates', 'standard.txt.hbs'), readFileSync('example-config/templates/standard.txt.hbs'));
  writeFileSync(join(root, 'templates', 'short.html.hbs'), readFileSync('example-config/templates/internal.html.hbs'));
  writeFileSync(join(root, 'templates', 'banner.html.hbs'), readFileSync('example-config/templates/winter-sale.html.hbs'));
  writeFileSync(join(root, 'templates', 'legal.html.hbs'), readFileSync('example-config/templates/legal.html.hbs'));
  const perTenant = USERS / TENANTS;
  for (let t = 0; t < TENANTS; t++) {
    const slug = `tenant${String(t).padStart(4, '0')}`;
    const domain = `${slug}.example`;
    let y = `# yaml-language-server: $schema=../../schemas/tenant.schema.json
id: ${hex(t, 8)}-2d3e-4b8a-9f51-${hex(t * 7919, 12)}
name: Tenant ${t} Ltd
domains: [${domain}, mail.${domain}]
enabled: ${t % 50 !== 0}
exchange:
  smartHost: relay.sigops.example.net
  certificateDomain: relay.${domain}
  deliverTo: ${slug}-example.mail.protection.outlook.com
  senders: ${t % 2 === 0 ? 'all' : `{ memberOf: signatures@${domain} }`}
  internal: true
directory:
  source: file
  file: directory/${slug}.yaml
rules:
`;
    for (let r = 0; r < RULES - 1; r++) {
      const dep = DEPARTMENTS[r % DEPARTMENTS.length]!;
      y += `  - name: rule-${r}\n    when:\n`;
      switch (r % 5) {
        case 0: y += `      department: [${dep}, ${DEPARTMENTS[(r + 3) % DEPARTMENTS.length]}]\n      recipients: external\n`; break;
        case 1: y += `      memberOf: [${dep.toLowerCase()}@${domain}]\n`; break;
        case 2: y += `      recipients: internal\n      jobTitle: [Manager ${r}]\n`; break;
        case 3: y += `      recipientDomains: [partner${r}.example, customer${r}.example]\n      department: ${dep}\n`; break;
        default: y += `      between: { from: 2026-12-01, until: 2027-01-06 }\n      department: [${dep}]\n`; break;
      }
      y += `    signature: ${r % 2 === 0 ? 'standard' : 'short'}\n`;
      if (r % 5 === 4) y += '    banner: banner\n';
      y += '    disclaimer: legal\n';
      if (r % 3 === 0) y += '    placement: bottom\n';
    }
    y += '  - name: default\n    signature: standard\n    disclaimer: legal\n';
    writeFileSync(join(root, 'tenants', `${slug}.yaml`), y);

    let d = '# yaml-language-server: $schema=../../schemas/directory.schema.json\nusers:\n';
    for (let u = 0; u < perTenant; u++) {
      const dep = DEPARTMENTS[u % DEPARTMENTS.length]!;
      d += `  - email: user${u}@${domain}
    displayName: User ${u} of Tenant ${t}
    jobTitle: ${u % 10 === 0 ? `Manager ${u % RULES}` : 'Specialist'}
    department: ${dep}
    phone: "+1 555 ${String(1000 + u).slice(-4)}"
    officeLocation: Building ${u % 4}
    mobile: "+1 555 ${String(2000 + u).slice(-4)}"
    pronouns: ${u % 2 ? 'she/her' : 'he/him'}
    memberOf: [${dep.toLowerCase()}@${domain}, signatures@${domain}]
`;
    }
    writeFileSync(join(root, 'directory', `${slug}.yaml`), d);
  }
  const files: string[] = [];
  let bytes = 0;
  for (const dir of ['tenants', 'directory', 'templates']) {
    for (const f of readdirSync(join(root, dir))) {
      const p = join(root, dir, f);
      files.push(p);
      bytes += readFileSync(p).length;
    }
  }
  return { files, bytes };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [performance.now() - t0, v];
}

const root = mkdtempSync(join(tmpdir(), 'sigops-bench-config-'));
try {
  const { files, bytes } = generate(root);
  const baseline: number[] = [];
  const validate: number[] = [];
  const compile: number[] = [];
  const decide: number[] = [];
  const cold: number[] = [];
  const COLD = 20_000;
  let config: ConfigRepo | undefined;
  let rules = 0;
  let users = 0;
  const DECISIONS = 200_000;
  for (let run = 0; run < RUNS; run++) {
    const [tb] = await time(async () => {
      const texts = await Promise.all(files.filter((f) => f.endsWith('.yaml')).map((f) => readFile(f, 'utf8')));
      for (const t of texts) parse(t);
    });
    baseline.push(tb);
    const [tv, r] = await time(() => loadConfigRepo(root));
    if (!r.ok) throw new Error(`generated config is invalid: ${r.errors.slice(0, 3).map((e) => `${e.file}:${e.line}:${e.col} ${e.message}`).join('; ')}`);
    if (r.warnings.length > 0) throw new Error(`generated config has warnings: ${r.warnings[0]!.message}`);
    validate.push(tv);
    config = r.config;
    const [tc, policy] = await time(() => compilePolicy(r.config));
    compile.push(tc);
    rules = r.config.tenants.reduce((n, t) => n + t.rules.length, 0);
    users = [...r.config.directories.values()].reduce((n, d) => n + d.users.size, 0);
    const now = new Date('2026-12-15T10:00:00Z');
    // First message of a sender that day: match + render + text derivation.
    const [tcold] = await time(() => {
      for (let i = 0; i < COLD; i++) {
        const t = policy.tenants[i % policy.tenants.length]!;
        t.decide({ sender: `user${Math.floor(i / policy.tenants.length) % 50}@${t.tenant.domains[0]}`, recipients: [`x@partner${i % 20}.example`], now });
      }
    });
    cold.push(tcold);
    // Hot path: decisions for a rotating set of senders, half to outside recipients.
    const requests = Array.from({ length: 1000 }, (_, i) => {
      const t = policy.tenants[(i * 37) % policy.tenants.length]!;
      const d = t.tenant.domains[0]!;
      return { t, req: { sender: `user${i % 50}@${d}`, recipients: i % 2 ? [`x@partner${i % 20}.example`] : [`user${(i + 1) % 50}@${d}`], now } };
    });
    let signed = 0;
    const [td] = await time(() => {
      for (let i = 0; i < DECISIONS; i++) {
        const { t, req } = requests[i % requests.length]!;
        if (t.decide(req).kind === 'sign') signed++;
      }
    });
    if (signed === 0) throw new Error('no decision signed: the benchmark measures nothing');
    decide.push(td);
  }
  const mb = median(baseline);
  const mv = median(validate);
  const mc = median(compile);
  const md = median(decide);
  const mcold = median(cold);
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const report = `# Config core benchmark

Generated config: ${config!.tenants.length.toLocaleString('en')} tenants × ${RULES} rules (${rules.toLocaleString('en')} rules),
${users.toLocaleString('en')} directory users, ${config!.templates.size} templates; ${files.length.toLocaleString('en')} files, ${(bytes / 1024 / 1024).toFixed(1)} MB.
Median of ${RUNS} runs on ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version} (load average at the end: ${loadavg()[0]!.toFixed(1)}).

| step | median | target | vs baseline |
|---|---|---|---|
| baseline: read + plain \`YAML.parse\` of the same files | ${fmt(mb)} | — | 1.0× |
| validate (\`loadConfigRepo\`: positions, schemas, templates, cross-file checks) | ${fmt(mv)} | < 5 s | ${(mv / mb).toFixed(1)}× |
| \`compilePolicy\` | ${fmt(mc)} | < 2 s | ${(mc / mb).toFixed(2)}× |
| \`decide()\`, sender's first message of the day (match + render + text), per message | ${((mcold * 1000) / COLD).toFixed(1)} µs | — | ${Math.round(COLD / (mcold / 1000)).toLocaleString('en')} decisions/s |
| \`decide()\`, repeated senders (match + cached render), per message | ${((md * 1000) / DECISIONS).toFixed(1)} µs | — | ${Math.round(DECISIONS / (md / 1000)).toLocaleString('en')} decisions/s |

Runs (ms): baseline ${baseline.map((x) => x.toFixed(0)).join(', ')}; validate ${validate.map((x) => x.toFixed(0)).join(', ')};
compile ${compile.map((x) => x.toFixed(0)).join(', ')}. Wall-clock times: other processes on the machine add noise;
the ratio to the baseline, measured in the same run, is the stable figure.

Reproduce: \`npm run bench:config\` (add \`-- --write\` to update this file).
`;
  process.stdout.write(report);
  if (args.includes('--write')) writeFileSync('bench/results/config.md', report);
  if (mv > 5000 || mc > 2000) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
