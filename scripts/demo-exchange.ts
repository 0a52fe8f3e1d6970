// npm run demo:exchange — a walk-through of sigops' Exchange Online reconciliation for newcomers.
// It starts the fake Exchange Online + Entra ID of the tests on 127.0.0.1 (nothing leaves this
// machine), then runs plan → apply → plan on example-config with the real client and msal, and
// finally pauses a tenant to show an in-place change.
import { resolve } from 'node:path';
import { loadConfigRepo } from '../src/config/index.ts';
import { realSleep } from '../src/entra/index.ts';
import { ExchangeConnector, applyPlan, planTenants, renderApplyReport, renderPlan } from '../src/plan/index.ts';
import { FakeExchangeOnline } from '../test/fakes/exchange-online.ts';

const CLIENT_ID = 'demo-sigops-app';
const SECRET = 'demo-secret';
const say = (text: string): void => {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n\n`);
};

const root = resolve(process.argv[2] ?? 'example-config');
const loaded = await loadConfigRepo(root);
if (!loaded.ok) {
  process.stderr.write(`demo: ${root} is not a valid config repo (run sigops validate)\n`);
  process.exit(1);
}
const config = loaded.config;

const fake = await new FakeExchangeOnline({ pageSize: 2 }).start();
try {
  // Each tenant's domains are accepted domains there, as in a real tenant that sends from them.
  for (const t of config.tenants) {
    fake.addTenant(t.id);
    for (const d of t.domains) fake.addAcceptedDomain(t.id, d);
  }
  fake.registerApp({ clientId: CLIENT_ID, secret: SECRET });
  // Like the real service: writes take a moment to show up in reads, and it throttles now and then.
  fake.setReplicationLag(4);
  fake.throttleNext(1, { status: 429, retryAfterSeconds: 1 });

  say(`A fake Exchange Online at ${fake.exchangeUrl}, its token endpoint at ${fake.loginUrl}`);
  process.stdout.write(
    `In production these are https://outlook.office365.com and https://login.microsoftonline.com;\n` +
      `SIGOPS_EXCHANGE_URL / SIGOPS_LOGIN_URL point sigops elsewhere. Credentials come from the\n` +
      `environment (here: app ${CLIENT_ID} with a client secret).\n`,
  );

  const exchange = new ExchangeConnector({
    exchangeUrl: fake.exchangeUrl,
    loginUrl: fake.loginUrl,
    ca: fake.caCert,
    credentials: { kind: 'secret', clientId: CLIENT_ID, clientSecret: SECRET },
    // Back-off is real but shortened so the demo does not sit waiting.
    sleep: (ms) => realSleep(Math.min(ms, 200)),
  });

  say(`1. sigops plan --config ${root}   (two tenants, nothing in Exchange yet)`);
  const first = await planTenants({ config, exchange });
  process.stdout.write(renderPlan(first, 'text'));

  say('2. sigops apply   (connectors first, then the rule that routes to the outbound connector)');
  const report = await applyPlan(first, { config, exchange, verify: false });
  process.stdout.write(renderApplyReport(report, 'text'));
  process.stdout.write(`\nCmdlets sent: \n${fake.writes().map((w) => `  ${w}`).join('\n')}\n`);
  const retried = fake.calls.filter((c) => c.status !== 200).map((c) => `${c.cmdlet} → HTTP ${c.status}`);
  process.stdout.write(`Answers that were retried (throttling, replication lag):\n${retried.map((r) => `  ${r}`).join('\n') || '  none'}\n`);

  say('3. sigops plan   (again: nothing left to do)');
  process.stdout.write(renderPlan(await planTenants({ config, exchange }), 'text'));

  const [paused] = config.tenants;
  if (paused) {
    say(`4. An admin sets "enabled: false" in tenants/${paused.slug}.yaml: the PR comment would show`);
    const pausedConfig = { ...config, tenants: config.tenants.map((t) => (t === paused ? { ...t, enabled: false } : t)) };
    const pausePlan = await planTenants({ config: pausedConfig, exchange, tenant: paused.slug });
    process.stdout.write(renderPlan(pausePlan, 'markdown'));
  }
  process.stdout.write('\nDone. Read docs/exchange.md to connect a real tenant.\n');
} finally {
  await fake.stop();
}
