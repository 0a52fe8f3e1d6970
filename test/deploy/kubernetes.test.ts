// Keeps deploy/kubernetes deployable: renders the kustomize base and the example overlay with
// `kubectl kustomize` and checks the objects a relay fleet depends on (ports, probes, security
// context, resources, drain, PDB, load balancer, TLS, metrics, NetworkPolicy), and that every
// flag the Deployment passes exists on `sigops relay`. Skipped without kubectl, unless
// SIGOPS_REQUIRE_KUBECTL=1 (CI), where a missing kubectl fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { registerRelay } from '../../src/cli/commands/relay.ts';

/** One rendered Kubernetes object, as far as these checks read it. */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Probe { httpGet?: { path?: string; port?: number | string } }
interface Port { name?: string; containerPort: number; protocol?: string }
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }
interface Mount { name: string; mountPath: string; readOnly?: boolean }
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: Port[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; privileged?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: Mount[];
}
interface Volume { name: string; emptyDir?: object; persistentVolumeClaim?: object; secret?: { secretName: string }; projected?: { sources: { secret?: { name: string } }[] } }
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  hostNetwork?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number };
}
interface PodTemplate { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec }
interface NetworkPolicyPort { port?: number | string; protocol?: string }
interface NetworkPolicyRule { ports?: NetworkPolicyPort[] }

const ROOT = new URL('../../', import.meta.url).pathname;
const KUSTOMIZATIONS = ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/example'];

function findKubectl(): string | undefined {
  const given = process.env.SIGOPS_KUBECTL;
  if (given) return given;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function render(kubectl: string, dir: string): KubeObject[] {
  // stderr (kustomize's deprecation warnings for bases/patchesStrategicMerge, which v2.0.3 needs) is not the output
  const out = execFileSync(kubectl, ['kustomize', join(ROOT, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out).map((doc) => {
    assert.deepEqual(doc.errors, [], `${dir}: the rendering is valid YAML`);
    return doc.toJSON() as KubeObject;
  }).filter((o) => o !== null);
}

/** `--flag=value` / `--flag value` / `--switch` → flag → value ('' for a switch). */
function flagsOf(args: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    assert.match(arg, /^--[a-z][a-z-]*/, `every argument is a flag or belongs to one: ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    else if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) flags.set(arg, args[++i]!);
    else flags.set(arg, '');
  }
  return flags;
}

function relayFlags(): Set<string> {
  const program = new Command();
  registerRelay(program);
  const relay = program.commands.find((c) => c.name() === 'relay');
  assert.ok(relay, 'the CLI has a relay command');
  return new Set(relay.options.map((o) => o.long).filter((l): l is string => !!l));
}

/** Kubernetes quantities as these manifests write them: 500m, 2, 320Mi, 1Gi. */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(q);
  assert.ok(m, `a quantity: ${q}`);
  const factor = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] as 'm' | 'Ki' | 'Mi' | 'Gi'] ?? 1;
  return Number(m[1]) * factor;
}

const portOf = (hostPort: string): number => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

function one(objects: KubeObject[], kind: string, predicate: (o: KubeObject) => boolean = () => true): KubeObject {
  const found = objects.filter((o) => o.kind === kind && predicate(o));
  assert.equal(found.length, 1, `exactly one ${kind}${found.length ? `: ${found.map((o) => o.metadata.name).join(', ')}` : ''}`);
  return found[0]!;
}

function checkFleet(dir: string, objects: KubeObject[], cliFlags: Set<string>): void {
  const deployment = one(objects, 'Deployment');
  const spec = deployment.spec as { replicas?: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate };
  const pod = spec.template;
  const at = `${dir}: `;
  assert.equal(pod.spec.containers.length, 1, `${at}one container: the relay`);
  const container = pod.spec.containers[0]!;

  // N stateless replicas
  assert.ok((spec.replicas ?? 1) >= 2, `${at}at least 2 replicas`);
  assert.ok(selects(spec.selector.matchLabels, pod.metadata.labels), `${at}the Deployment selects its pods`);
  assert.match(container.image, /:[\w.-]+$|@sha256:/, `${at}the image is pinned: ${container.image}`);
  assert.doesNotMatch(container.image, /:latest$/, `${at}not :latest`);

  // the flags exist on `sigops relay`, and the production ones are there
  const flags = flagsOf(container.args ?? []);
  const unknown = [...flags.keys()].filter((f) => !cliFlags.has(f));
  assert.deepEqual(unknown, [], `${at}every flag in the Deployment exists on sigops relay`);
  for (const f of ['--repo', '--branch', '--config', '--listen', '--http', '--hostname', '--tls-cert', '--tls-key', '--client-cert-dir', '--require-client-cert', '--state']) {
    assert.ok(flags.get(f), `${at}${f} is given`);
  }
  assert.ok(flags.get('--allow') || flags.get('--allow-file'), `${at}an allow-list (--allow or --allow-file)`);
  assert.equal(flags.get('--require-client-cert'), 'mail.protection.outlook.com', `${at}only Exchange Online's own certificate may send`);
  assert.ok(!flags.has('--deliver-insecure-tls') && !flags.has('--outbox') && !flags.has('--deliver'), `${at}no development flags`);

  // every $(VAR) in the arguments is defined: the kubelet would pass an undefined one on literally
  const env = new Map((container.env ?? []).map((e) => [e.name, e]));
  for (const arg of container.args ?? []) {
    for (const [, name] of arg.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) assert.ok(env.has(name!), `${at}$(${name}) is defined in env`);
  }
  const repo = flags.get('--repo')!;
  assert.match(repo, /^https:\/\/\$\([A-Z_]+\):\$\([A-Z_]+\)@/, `${at}--repo takes its credentials from the environment`);
  const tokenVar = /:\$\(([A-Z_]+)\)@/.exec(repo)![1]!;
  assert.ok(env.get(tokenVar)?.valueFrom?.secretKeyRef, `${at}the token comes from a Secret`);
  for (const e of env.values()) {
    const ref = e.valueFrom?.configMapKeyRef;
    if (!ref) continue;
    const configMap = one(objects, 'ConfigMap', (o) => o.metadata.name === ref.name);
    assert.ok(configMap.data?.[ref.key], `${at}ConfigMap ${ref.name} has ${ref.key}`);
  }

  // ports: unprivileged inside the container, named, and the ones the flags listen on
  const ports = new Map((container.ports ?? []).map((p) => [p.name ?? '', p.containerPort]));
  const smtpPort = portOf(flags.get('--listen')!);
  const httpPort = portOf(flags.get('--http')!);
  assert.equal(ports.get('smtp'), smtpPort, `${at}container port smtp is --listen's`);
  assert.equal(ports.get('http'), httpPort, `${at}container port http is --http's`);
  assert.ok(smtpPort > 1024, `${at}the relay listens on an unprivileged port (no NET_BIND_SERVICE)`);
  const resolvePort = (p: number | string | undefined): number | undefined => (typeof p === 'string' ? ports.get(p) : p);

  // probes: ready = config loaded and not draining (/readyz), alive = answers (/healthz)
  assert.equal(container.readinessProbe?.httpGet?.path, '/readyz', `${at}readiness on /readyz`);
  assert.equal(resolvePort(container.readinessProbe?.httpGet?.port), httpPort, `${at}readiness on the --http port`);
  assert.equal(container.livenessProbe?.httpGet?.path, '/healthz', `${at}liveness on /healthz`);
  assert.equal(resolvePort(container.livenessProbe?.httpGet?.port), httpPort, `${at}liveness on the --http port`);
  if (container.startupProbe) {
    assert.equal(container.startupProbe.httpGet?.path, '/healthz', `${at}startup on /healthz`);
    assert.equal(resolvePort(container.startupProbe.httpGet?.port), httpPort, `${at}startup on the --http port`);
  }

  // security context: non-root, read-only root, no capabilities, no escalation
  const sc = container.securityContext ?? {};
  assert.ok(pod.spec.securityContext?.runAsNonRoot || sc.runAsNonRoot, `${at}runAsNonRoot`);
  // the pod runs as the image's own user, so the files the image ships are the user's to read
  const imageUser = /^USER\s+(\d+):(\d+)\s*$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  assert.ok(imageUser, 'the Dockerfile names a numeric USER uid:gid');
  assert.equal(pod.spec.securityContext?.runAsUser, Number(imageUser[1]), `${at}runAsUser is the image's user`);
  assert.equal(pod.spec.securityContext?.fsGroup, Number(imageUser[2]), `${at}fsGroup is the image's group`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${at}allowPrivilegeEscalation false`);
  assert.equal(sc.readOnlyRootFilesystem, true, `${at}readOnlyRootFilesystem`);
  assert.ok(sc.capabilities?.drop?.includes('ALL'), `${at}drops ALL capabilities`);
  assert.deepEqual(sc.capabilities?.add ?? [], [], `${at}adds none back`);
  assert.ok(!sc.privileged && !pod.spec.hostNetwork, `${at}neither privileged nor on the host network`);

  // what the relay writes lives on volumes (the root file system is read-only)
  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  const mountFor = (path: string): { mount: Mount; volume: Volume } | undefined => {
    const mount = (container.volumeMounts ?? [])
      .filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/?$/, '/')))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    return mount && { mount, volume: volumes.get(mount.name)! };
  };
  for (const path of [flags.get('--config')!, flags.get('--state')!, '/tmp']) {
    const m = mountFor(path);
    assert.ok(m && !m.mount.readOnly && (m.volume.emptyDir || m.volume.persistentVolumeClaim), `${at}${path} is on a writable volume`);
  }
  // git refuses a work tree whose top directory another user owns (a volume's root): the clone is below it
  assert.notEqual(mountFor(flags.get('--config')!)!.mount.mountPath.replace(/\/$/, ''), flags.get('--config')!.replace(/\/$/, ''), `${at}--config is a directory inside its volume, not the volume's root`);

  // TLS from a Secret (cert-manager writes tls.crt / tls.key)
  for (const [flag, file] of [['--tls-cert', 'tls.crt'], ['--tls-key', 'tls.key']] as const) {
    const path = flags.get(flag)!;
    assert.ok(path.endsWith(`/${file}`), `${at}${flag} is the Secret's ${file}`);
    const m = mountFor(path);
    assert.ok(m?.volume.secret?.secretName, `${at}${flag} is on a Secret volume`);
    assert.ok(m.mount.readOnly, `${at}mounted read-only`);
  }
  const clientCerts = mountFor(flags.get('--client-cert-dir')! + '/x.crt');
  assert.ok(clientCerts?.volume.secret || clientCerts?.volume.projected?.sources.some((s) => s.secret), `${at}--client-cert-dir is on Secrets`);

  // resources, sized from the benchmarks: the soak's RSS was ~270 MB
  const { requests = {}, limits = {} } = container.resources ?? {};
  for (const r of ['cpu', 'memory']) {
    assert.ok(requests[r], `${at}requests.${r}`);
    assert.ok(limits[r], `${at}limits.${r}`);
    assert.ok(quantity(limits[r]!) >= quantity(requests[r]!), `${at}limits.${r} ≥ requests.${r}`);
  }
  assert.ok(quantity(limits.memory!) >= 300 * 1024 ** 2, `${at}the memory limit leaves room above the soak's 270 MB RSS`);

  // drain: SIGTERM lets messages in flight finish before the kubelet's SIGKILL
  const drain = Number(flags.get('--drain-timeout') ?? 30);
  assert.ok((pod.spec.terminationGracePeriodSeconds ?? 30) > drain, `${at}terminationGracePeriodSeconds > --drain-timeout (${drain} s)`);

  // PodDisruptionBudget over the same pods, letting a drain take one at a time
  const pdb = one(objects, 'PodDisruptionBudget');
  const pdbSpec = pdb.spec as { minAvailable?: number | string; maxUnavailable?: number | string; selector?: { matchLabels?: Record<string, string> } };
  assert.equal(pdb.apiVersion, 'policy/v1');
  assert.ok(pdbSpec.minAvailable !== undefined || pdbSpec.maxUnavailable !== undefined, `${at}the PDB sets minAvailable or maxUnavailable`);
  assert.ok(selects(pdbSpec.selector?.matchLabels, pod.metadata.labels), `${at}the PDB selects the relay pods`);
  if (typeof pdbSpec.minAvailable === 'number') assert.ok(pdbSpec.minAvailable < (spec.replicas ?? 1), `${at}the PDB lets one pod go`);

  // SMTP on a load balancer, port 25, the client's own source address kept
  const smtp = one(objects, 'Service', (o) => (o.spec as { type?: string }).type === 'LoadBalancer');
  const smtpSpec = smtp.spec as { externalTrafficPolicy?: string; selector?: Record<string, string>; ports: { port: number; targetPort?: number | string; protocol?: string }[] };
  assert.equal(smtpSpec.externalTrafficPolicy, 'Local', `${at}externalTrafficPolicy Local (the allow-list needs the real source)`);
  assert.ok(selects(smtpSpec.selector, pod.metadata.labels), `${at}the SMTP Service selects the relay pods`);
  assert.equal(smtpSpec.ports.length, 1, `${at}the SMTP Service exposes only SMTP`);
  assert.equal(smtpSpec.ports[0]!.port, 25);
  assert.equal(resolvePort(smtpSpec.ports[0]!.targetPort), smtpPort, `${at}25 → the relay's --listen port`);

  // metrics: scrape annotations on the pods, or a ServiceMonitor on a Service that targets --http
  const annotations = pod.metadata.annotations ?? {};
  const annotated = annotations['prometheus.io/scrape'] === 'true' && Number(annotations['prometheus.io/port']) === httpPort;
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  for (const monitor of monitors) {
    const m = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port?: string }[] };
    const service = one(objects, 'Service', (o) => selects(m.selector.matchLabels, o.metadata.labels ?? {}) && (o.spec as { ports: { name?: string }[] }).ports.some((p) => m.endpoints.some((e) => e.port === p.name)));
    const port = (service.spec as { ports: { name?: string; targetPort?: number | string }[] }).ports.find((p) => m.endpoints.some((e) => e.port === p.name))!;
    assert.equal(resolvePort(port.targetPort), httpPort, `${at}the ServiceMonitor scrapes --http`);
  }
  assert.ok(annotated || monitors.length > 0, `${at}Prometheus scrapes the relays`);

  // NetworkPolicy: SMTP in; DNS, the git remote and the next hop out
  const policy = one(objects, 'NetworkPolicy', (o) => selects((o.spec as { podSelector?: { matchLabels?: Record<string, string> } }).podSelector?.matchLabels, pod.metadata.labels));
  const policySpec = policy.spec as { policyTypes?: string[]; ingress?: NetworkPolicyRule[]; egress?: NetworkPolicyRule[] };
  assert.deepEqual([...(policySpec.policyTypes ?? [])].sort(), ['Egress', 'Ingress']);
  const allows = (rules: NetworkPolicyRule[] | undefined, port: number, protocol = 'TCP'): boolean =>
    (rules ?? []).some((r) => (r.ports ?? []).some((p) => resolvePort(p.port) === port && (p.protocol ?? 'TCP') === protocol));
  assert.ok(allows(policySpec.ingress, smtpPort), `${at}SMTP in`);
  assert.ok(allows(policySpec.ingress, httpPort), `${at}the HTTP endpoint in (Prometheus)`);
  assert.ok(allows(policySpec.egress, 53, 'UDP'), `${at}DNS out`);
  assert.ok(allows(policySpec.egress, 443) || allows(policySpec.egress, 22), `${at}the git remote out`);
  assert.ok(allows(policySpec.egress, 25), `${at}the next hop out on 25`);
}

const kubectl = findKubectl();
const required = process.env.SIGOPS_REQUIRE_KUBECTL === '1';

if (!kubectl && !required) {
  describe('deploy/kubernetes', () => {
    it('renders and holds together', { skip: 'kubectl not found (install kubernetes-client, or set SIGOPS_KUBECTL)' }, () => {});
  });
} else {
  describe('deploy/kubernetes', () => {
    it('kubectl is found', () => {
      assert.ok(kubectl, 'kubectl not found on PATH nor in SIGOPS_KUBECTL; CI installs kubernetes-client');
    });
    const cliFlags = relayFlags();
    for (const dir of KUSTOMIZATIONS) {
      it(`${dir} renders, and the relay fleet it describes holds together`, { skip: !kubectl }, () => {
        checkFleet(dir, render(kubectl!, dir), cliFlags);
      });
    }
    it('the example overlay puts everything in its namespace and changes only what it says', { skip: !kubectl }, () => {
      const base = render(kubectl!, KUSTOMIZATIONS[0]!);
      const overlay = render(kubectl!, KUSTOMIZATIONS[1]!);
      for (const o of overlay.filter((x) => x.kind !== 'Namespace')) assert.equal(o.metadata.namespace, 'sigops', `${o.kind} ${o.metadata.name} in sigops`);
      const relay = (objects: KubeObject[]) => (one(objects, 'Deployment').spec as { template: PodTemplate }).template.spec.containers[0]!;
      // same flags (the overlay changes settings through the ConfigMap, not the command line)
      assert.deepEqual(relay(overlay).args, relay(base).args);
      // the client certificates: one cert-manager Secret per tenant, projected as <certificateDomain>.crt/.key
      const volumes = (one(overlay, 'Deployment').spec as { template: PodTemplate }).template.spec.volumes!;
      const volume = volumes.find((v) => v.name === 'client-certs')!;
      const smtpTls = volumes.find((v) => v.name === 'smtp-tls')!.secret!.secretName;
      const sources = volume.projected!.sources as { secret: { name: string; items: { key: string; path: string }[] } }[];
      assert.ok(sources.length > 0, 'at least one tenant');
      for (const { secret } of sources) {
        const [crt, key] = [...secret.items].sort((a, b) => a.path.localeCompare(b.path));
        assert.deepEqual([crt?.key, key?.key], ['tls.crt', 'tls.key'], `${secret.name}: tls.crt and tls.key`);
        assert.equal(crt!.path.replace(/\.crt$/, '.key'), key!.path, `${secret.name}: <certificateDomain>.crt and .key`);
      }
      assert.ok(!sources.some((s) => s.secret.name === 'sigops-client-certs'), "the overlay's list replaces the base's");
      for (const cert of overlay.filter((o) => o.kind === 'Certificate')) {
        const c = cert.spec as { secretName: string; dnsNames: string[] };
        const projected = sources.find((s) => s.secret.name === c.secretName);
        if (projected) assert.deepEqual(projected.secret.items.map((i) => i.path).sort(), [`${c.dnsNames[0]}.crt`, `${c.dnsNames[0]}.key`]);
        else assert.equal(c.secretName, smtpTls, `Certificate ${cert.metadata.name} is the listener's or a tenant's`);
      }
    });
  });
}
