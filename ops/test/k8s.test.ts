/**
 * deploy/k8s: every manifest validates against the Kubernetes / KEDA schemas (kubernetes-models),
 * the kustomization ties them together, each service is probed on /health with resources set,
 * SQLite keeps one writer, and the KEDA ScaledObject watches BullMQ's real key for the copy queue.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
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
    assert.equal(new URL(configMap.data.REDIS_URL).host, 'redis:6379');
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
