/**
 * Environment variables across code, .env.example, compose and Kubernetes: every variable the
 * services read is documented, every variable the deployments set is one the code reads (a typo
 * there is silently ignored otherwise), and every service can be told to listen on 0.0.0.0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { envExampleKeys, envPrefix, envVarsReadByCode, read, SERVICES, serviceConfigKeys, yamlDocs } from './support.ts';

// Set by the image or the platform, not by users: nothing to document in .env.example.
const PLATFORM_VARS = new Set(['NODE_ENV']);
/** Read by Node itself, not by our code (the metadata-service's heap cap). */
const NODE_READS = new Set(['NODE_OPTIONS']);
/** Read by Redis itself, KEDA and the kubelet's $(VAR) expansion of REDIS_URL, not by our code. */
const DEPLOYMENT_ONLY = new Set(['REDIS_PASSWORD']);

describe('environment variables', () => {
  const readByCode = envVarsReadByCode();

  it('finds the variables the services read (sanity check of the grep)', () => {
    for (const v of ['REDIS_URL', 'DATABASE_URL', 'S3_BUCKET', 'GOOGLE_API_KEY', 'WORKER_CONCURRENCY', 'GATEWAY_HOST', 'LOG_PRETTY']) {
      assert.ok(readByCode.has(v), `${v} not found in the services' code`);
    }
  });

  it('documents every variable the services read in .env.example', () => {
    const documented = envExampleKeys();
    const missing = [...readByCode.keys()]
      .filter((v) => !documented.has(v) && !PLATFORM_VARS.has(v))
      .map((v) => `${v} (read in ${[...new Set(readByCode.get(v))].join(', ')})`);
    assert.deepEqual(missing, [], `add these to .env.example:\n  ${missing.join('\n  ')}`);
  });

  it('lets every service bind 0.0.0.0 in a container through <SERVICE>_HOST', () => {
    // Services default to 127.0.0.1: in a container or pod that is unreachable from other services
    // and from Kubernetes probes.
    const missing = SERVICES.filter((s) => !serviceConfigKeys(s).includes(`${envPrefix(s)}_HOST`)).map(
      (s) => `${s}/src/config.ts has no ${envPrefix(s)}_HOST`,
    );
    assert.deepEqual(missing, []);
  });

  it('sets only variables the services read, in compose and in the Kubernetes ConfigMap, Secret and Deployments', () => {
    const compose = parse(read('docker-compose.microservices.yml'), { merge: true }).services;
    const set: Array<[string, string]> = [];
    for (const s of SERVICES) for (const v of Object.keys(compose[s].environment)) set.push([v, `compose ${s}`]);
    for (const file of ['configmap.yaml', 'secret.example.yaml', ...SERVICES.map((s) => `${s}.yaml`)]) {
      for (const doc of yamlDocs(`deploy/k8s/${file}`)) {
        for (const v of Object.keys(doc.data ?? doc.stringData ?? {})) set.push([v, file]);
        for (const c of doc.spec?.template?.spec?.containers ?? []) for (const e of c.env ?? []) set.push([e.name, file]);
      }
    }
    const unknown = set.filter(([v]) => !readByCode.has(v) && !NODE_READS.has(v) && !DEPLOYMENT_ONLY.has(v)).map(([v, where]) => `${v} (${where})`);
    assert.deepEqual(unknown, [], 'set but read by no service');
  });
});
