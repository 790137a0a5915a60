/**
 * deploy/k8s: every manifest validates against the Kubernetes / KEDA schemas (kubernetes-models),
 * the kustomization ties them together, each service is probed on /health with resources set,
 * SQLite keeps one writer, the KEDA ScaledObject watches BullMQ's real key for the copy queue, and
 * the network and secrets: NetworkPolicies that let only the gateway be reached from outside, Redis
 * AUTH from the Secret in every client, the INTERNAL_TOKEN from the Secret in every service.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { QueueKeys } from 'bullmq';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { DEFAULT_PORTS } from '@drive-import/common';
import { QUEUES } from '../../packages/common/src/queues.ts';
import { ROOT, SERVICES, yamlDocs } from './support.ts';

const DIR = 'deploy/k8s';
const NS = 'drive-import';
const MODELS: Record<string, Record<string, any>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'networking.k8s.io/v1': networkingV1,
  'keda.sh/v1alpha1': keda,
};
// Applied by hand, on purpose: the template would blank a real Secret, the Ingress needs your host.
const NOT_IN_KUSTOMIZATION = ['secret.example.yaml', 'ingress.yaml'];

const files = readdirSync(join(ROOT, DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const docs = files.flatMap((f) => yamlDocs(`${DIR}/${f}`).map((doc) => ({ file: f, doc })));
function find(kind: string, name: string): Record<string, any> {
  const found = docs.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name)?.doc;
  assert.ok(found, `no ${kind} ${name} in ${DIR}`);
  return found;
}
const configMap = find('ConfigMap', 'drive-import-config');
const SECRET = 'drive-import-secrets';
const secretExample = find('Secret', SECRET);

/** The first container's environment as the pod sees it: ConfigMap, then Secret (keys only), then env. */
function podEnv(workload: Record<string, any>): Record<string, string> {
  const c = workload.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef?.name === configMap.metadata.name) Object.assign(env, configMap.data);
    if (from.secretRef?.name === SECRET) Object.assign(env, secretExample.stringData);
  }
  for (const e of c.env ?? []) env[e.name] = e.value ?? `<${e.valueFrom ? Object.keys(e.valueFrom)[0] : 'unset'}>`;
  return env;
}

/** Services whose config reads Redis (the shared redisEnv fragment or REDIS_URL itself). */
const usesRedis = (s: string) => /\bredisEnv\b|\bREDIS_URL\b/.test(readFileSync(join(ROOT, s, 'src', 'config.ts'), 'utf8'));

// ---- A small NetworkPolicy evaluator (ingress only), enough for the policies in deploy/k8s.
type Labels = Record<string, string>;
/** A connection's source: a pod (its labels and its namespace's labels) or an address outside the cluster. */
type Source = { pod: Labels; namespace: Labels } | { ip: string };
const nsLabels = (name: string): Labels => ({ 'kubernetes.io/metadata.name': name });
const ownNamespace: Labels = { ...find('Namespace', NS).metadata.labels, ...nsLabels(NS) };

function selects(selector: Record<string, any> | undefined, labels: Labels): boolean {
  if (!selector) return true;
  const okLabels = Object.entries<string>(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const okExpressions = (selector.matchExpressions ?? []).every((e: any) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && e.values.includes(labels[e.key]);
      case 'NotIn':
        return !has || !e.values.includes(labels[e.key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        throw new Error(`unknown operator ${e.operator}`);
    }
  });
  return okLabels && okExpressions;
}

function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits ?? 32));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base!) / size);
}

function peerAdmits(peer: Record<string, any>, src: Source): boolean {
  if (peer.ipBlock) return 'ip' in src && inCidr(src.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => inCidr(src.ip, c));
  if (!('pod' in src)) return false;
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, src.namespace) : src.namespace['kubernetes.io/metadata.name'] === NS;
  return nsOk && selects(peer.podSelector, src.pod);
}

const policies = docs.filter((d) => d.doc.kind === 'NetworkPolicy').map((d) => d.doc);
interface Target {
  labels: Labels;
  ports: Array<{ name?: string; containerPort: number }>;
}
const podTarget = (kind: string, name: string): Target => {
  const w = find(kind, name);
  return { labels: w.spec.template.metadata.labels, ports: w.spec.template.spec.containers[0].ports ?? [] };
};

/** Whether a TCP connection from src to the target pod's port gets through the namespace's policies. */
function admitted(target: Target, port: number, src: Source): boolean {
  const applying = policies.filter((p) => selects(p.spec.podSelector, target.labels) && (p.spec.policyTypes ?? ['Ingress']).includes('Ingress'));
  if (applying.length === 0) return true; // a pod no policy selects accepts everything
  const portOk = (ports: any[] | undefined) =>
    !ports?.length ||
    ports.some(
      (p) =>
        (p.protocol ?? 'TCP') === 'TCP' &&
        (p.port === undefined || p.port === port || (typeof p.port === 'string' && target.ports.some((c) => c.name === p.port && c.containerPort === port))),
    );
  return applying.some((p) =>
    (p.spec.ingress ?? []).some((rule: any) => portOk(rule.ports) && (!rule.from?.length || rule.from.some((peer: any) => peerAdmits(peer, src)))),
  );
}

describe('deploy/k8s', () => {
  it('validates every manifest against its schema', () => {
    assert.ok(docs.length >= 15, `only ${docs.length} manifests`);
    for (const { file, doc } of docs) {
      const Model = MODELS[doc.apiVersion]?.[doc.kind];
      assert.ok(Model, `${file}: no schema for ${doc.apiVersion} ${doc.kind}`);
      assert.doesNotThrow(() => new Model(doc).validate(), `${file}: ${doc.kind} ${doc.metadata?.name}`);
      if (doc.kind !== 'Namespace') assert.equal(doc.metadata.namespace, NS, `${file}: ${doc.kind} ${doc.metadata.name} namespace`);
    }
  });

  it('lists every manifest in kustomization.yaml, except the ones applied by hand', () => {
    const [k] = yamlDocs(`${DIR}/kustomization.yaml`);
    for (const r of k!.resources) assert.ok(existsSync(join(ROOT, DIR, r)), `${r} is missing`);
    assert.deepEqual([...k!.resources].sort(), files.filter((f) => !NOT_IN_KUSTOMIZATION.includes(f)).sort());
    assert.deepEqual(k!.images.map((i: any) => i.name).sort(), SERVICES.map((s) => `drive-import/${s}`).sort());
  });

  it('runs each service with probes on /health, resources, the config and the secret, as non-root', () => {
    for (const s of SERVICES) {
      const dep = find('Deployment', s);
      const pod = dep.spec.template.spec;
      const [c] = pod.containers;
      assert.equal(c.image, `drive-import/${s}:latest`);
      assert.deepEqual(c.ports.find((p: any) => p.name === 'http')?.containerPort, DEFAULT_PORTS[s], `${s} port`);
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        assert.deepEqual(c[probe]?.httpGet, { path: '/health', port: 'http' }, `${s} ${probe}`);
      }
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory, `${s} requests`);
      assert.ok(c.resources.limits.memory, `${s} memory limit`);
      assert.deepEqual(c.envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name), ['drive-import-config', 'drive-import-secrets'], `${s} envFrom (the Secret last, so it overrides)`);
      assert.equal(pod.securityContext.runAsNonRoot, true, `${s} runAsNonRoot`);
      // The service answers on its pod IP only if it binds 0.0.0.0 (see env.test.ts).
      assert.equal(configMap.data[`${s.toUpperCase().replace(/-/g, '_')}_HOST`], '0.0.0.0', `${s} host`);

      const svc = find('Service', s);
      for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(dep.spec.template.metadata.labels[k], v, `${s} selector`);
      assert.deepEqual(svc.spec.ports.map((p: any) => [p.port, p.targetPort]), [[DEFAULT_PORTS[s], 'http']]);
      const url = configMap.data[`${s.toUpperCase().replace(/-/g, '_')}_URL`];
      if (url) assert.equal(url, `http://${s}:${DEFAULT_PORTS[s]}`);
    }
  });

  it('keeps SQLite to one writer: one metadata-service pod, never two at once, on a volume', () => {
    const dep = find('Deployment', 'metadata-service');
    assert.equal(dep.spec.replicas, 1);
    assert.equal(dep.spec.strategy.type, 'Recreate');
    const claim = dep.spec.template.spec.volumes.find((v: any) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
    find('PersistentVolumeClaim', claim);
    const dbPath = /^file:(.*)\/[^/]+$/.exec(configMap.data.DATABASE_URL)?.[1];
    const mount = dep.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'db');
    assert.equal(mount?.mountPath, dbPath, 'DATABASE_URL must point into the mounted volume');
  });

  it('gives workers time to finish their batches on scale-in, and leaves the count to KEDA', () => {
    const dep = find('Deployment', 'worker');
    const pod = dep.spec.template.spec;
    assert.equal(dep.spec.replicas, undefined, 'a replicas field would fight the autoscaler on every apply');
    const graceMs = Number(pod.containers[0].env.find((e: any) => e.name === 'WORKER_SHUTDOWN_GRACE_MS')?.value);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 >= graceMs + 15_000, 'terminationGracePeriodSeconds vs WORKER_SHUTDOWN_GRACE_MS');
  });

  it('runs Redis with noeviction and AOF, reachable at the REDIS_URL host', () => {
    const sts = find('StatefulSet', 'redis');
    const args = sts.spec.template.spec.containers[0].args.join(' ');
    assert.match(args, /--maxmemory-policy noeviction/);
    assert.match(args, /--appendonly yes/);
    find('Service', 'redis');
    for (const s of SERVICES.filter(usesRedis)) assert.equal(new URL(podEnv(find('Deployment', s)).REDIS_URL ?? '').host, 'redis:6379', s);
  });

  it('runs Redis with requirepass from the Secret, and health-checks it with the password', () => {
    assert.ok(Object.hasOwn(secretExample.stringData, 'REDIS_PASSWORD'), 'secret.example.yaml has no REDIS_PASSWORD');
    const c = find('StatefulSet', 'redis').spec.template.spec.containers[0];
    const env = c.env ?? [];
    const pw = env.findIndex((e: any) => e.name === 'REDIS_PASSWORD');
    assert.deepEqual(env[pw]?.valueFrom?.secretKeyRef, { name: SECRET, key: 'REDIS_PASSWORD' }, 'REDIS_PASSWORD from the Secret');
    const cmd = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
    assert.match(cmd, /--requirepass ("\$REDIS_PASSWORD"|\$\(REDIS_PASSWORD\))/);
    assert.match(cmd, /test -n "\$REDIS_PASSWORD"/, 'an empty password must stop Redis, not run it open');
    // redis-cli takes the password from REDISCLI_AUTH, defined after what it expands.
    const auth = env.findIndex((e: any) => e.name === 'REDISCLI_AUTH');
    assert.ok(auth > pw && env[auth].value === '$(REDIS_PASSWORD)', 'REDISCLI_AUTH=$(REDIS_PASSWORD) after REDIS_PASSWORD');
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      const check = c[probe]?.exec?.command?.join(' ') ?? '';
      assert.match(check, /redis-cli ping \| grep -q PONG/, `${probe}: a NOAUTH reply must not count as healthy`);
    }
  });

  it('gives every Redis client a REDIS_URL with the password from the Secret, KEDA included', () => {
    const urls: Array<[string, string]> = [];
    if (configMap.data.REDIS_URL) urls.push(['configmap', configMap.data.REDIS_URL]);
    for (const s of SERVICES) {
      const url = podEnv(find('Deployment', s)).REDIS_URL;
      if (usesRedis(s)) assert.ok(url, `${s} uses Redis but has no REDIS_URL`);
      if (url) urls.push([s, url]);
    }
    for (const [where, url] of urls) {
      // Expanded by the kubelet from REDIS_PASSWORD, which envFrom takes from the Secret.
      assert.equal(new URL(url).password, '$(REDIS_PASSWORD)', `${where}: REDIS_URL ${url} has no password from the Secret`);
    }
    const so = find('ScaledObject', 'worker');
    for (const t of so.spec.triggers) {
      const ta = find('TriggerAuthentication', t.authenticationRef?.name);
      assert.ok(
        ta.spec.secretTargetRef.some((r: any) => r.parameter === 'password' && r.name === SECRET && r.key === 'REDIS_PASSWORD'),
        `${t.metadata.listName}: the TriggerAuthentication must pass REDIS_PASSWORD as password`,
      );
    }
  });

  it('gives every service the INTERNAL_TOKEN from the Secret, never a value in a manifest', () => {
    assert.ok(Object.hasOwn(secretExample.stringData, 'INTERNAL_TOKEN'), 'secret.example.yaml has no INTERNAL_TOKEN');
    assert.equal(secretExample.stringData.INTERNAL_TOKEN, '', 'the template must not carry a token');
    assert.ok(!Object.hasOwn(configMap.data, 'INTERNAL_TOKEN'), 'INTERNAL_TOKEN in the ConfigMap');
    for (const s of SERVICES) {
      const c = find('Deployment', s).spec.template.spec.containers[0];
      assert.ok(c.envFrom.some((e: any) => e.secretRef?.name === SECRET), `${s} does not read the Secret`);
      assert.ok(!(c.env ?? []).some((e: any) => e.name === 'INTERNAL_TOKEN'), `${s} sets INTERNAL_TOKEN itself`);
      assert.ok(Object.hasOwn(podEnv(find('Deployment', s)), 'INTERNAL_TOKEN'), `${s} gets no INTERNAL_TOKEN`);
    }
  });

  it('lets only the gateway be reached from outside the namespace (NetworkPolicy)', () => {
    const fromOutside: Record<string, Source> = {
      'an address outside the cluster': { ip: '203.0.113.7' },
      'the ingress controller': { pod: { 'app.kubernetes.io/name': 'ingress-nginx' }, namespace: nsLabels('ingress-nginx') },
    };
    const outsiders: Record<string, Source> = {
      ...fromOutside,
      // Labels copied from our pods do not help in another namespace.
      'a look-alike pod in another namespace': { pod: find('Deployment', 'gateway').spec.template.metadata.labels, namespace: nsLabels('other') },
      'an unlabelled pod in this namespace': { pod: { run: 'debug' }, namespace: ownNamespace },
    };
    const gateway = podTarget('Deployment', 'gateway');
    for (const [who, src] of Object.entries(fromOutside)) assert.ok(admitted(gateway, DEFAULT_PORTS.gateway, src), `gateway must accept ${who}`);

    const appPod = (s: string): Source => ({ pod: find('Deployment', s).spec.template.metadata.labels, namespace: ownNamespace });
    const internal = SERVICES.filter((s) => s !== 'gateway');
    for (const s of internal) {
      const t = podTarget('Deployment', s);
      for (const [who, src] of Object.entries(outsiders)) assert.ok(!admitted(t, DEFAULT_PORTS[s], src), `${s} must refuse ${who}`);
      for (const from of SERVICES) assert.ok(admitted(t, DEFAULT_PORTS[s], appPod(from)), `${s} must accept ${from}`);
      assert.ok(!admitted(t, DEFAULT_PORTS[s], { pod: find('StatefulSet', 'redis').spec.template.metadata.labels, namespace: ownNamespace }), `${s} must refuse redis`);
    }

    const redis = podTarget('StatefulSet', 'redis');
    for (const [who, src] of Object.entries(outsiders)) assert.ok(!admitted(redis, 6379, src), `redis must refuse ${who}`);
    for (const from of SERVICES) assert.equal(admitted(redis, 6379, appPod(from)), usesRedis(from), `redis from ${from} (uses Redis: ${usesRedis(from)})`);
    // KEDA's operator (installed into `keda` as in docs/operations.md) reads the queue length.
    assert.ok(admitted(redis, 6379, { pod: { app: 'keda-operator' }, namespace: nsLabels('keda') }), 'redis must accept the KEDA operator');
    assert.ok(!admitted(redis, 6379, { pod: { app: 'something-else' }, namespace: nsLabels('keda') }), 'redis must refuse other pods of the keda namespace');

    // Default deny: a pod added to the namespace later is not open to the world either.
    assert.ok(!admitted({ labels: { run: 'debug' }, ports: [] }, 8080, { ip: '203.0.113.7' }), 'a new pod in the namespace must not accept outside traffic');
  });

  it("scales the worker Deployment with KEDA on BullMQ's own keys for the copy queue", () => {
    const so = find('ScaledObject', 'worker');
    assert.equal(so.spec.scaleTargetRef.name, 'worker');
    find('Deployment', so.spec.scaleTargetRef.name);
    // Key names as BullMQ itself builds them (prefix from the ConfigMap, queue name from the code).
    const keys = new QueueKeys(configMap.data.QUEUE_PREFIX).getKeys(QUEUES.copy);
    assert.equal(keys.wait, 'drive-import:copy:wait');
    const triggers = so.spec.triggers;
    for (const t of triggers) {
      assert.equal(t.type, 'redis');
      assert.equal(t.metadata.address, `redis.${NS}.svc.cluster.local:6379`);
    }
    const lists = triggers.map((t: any) => t.metadata.listName);
    assert.equal(lists[0], keys.wait, 'the first trigger is the waiting list');
    assert.deepEqual([...lists].sort(), [keys.wait, keys.active, keys.delayed, keys.prioritized].sort());
    assert.ok(so.spec.maxReplicaCount > (so.spec.minReplicaCount ?? 0));
  });
});
