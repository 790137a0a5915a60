/** The worker's HTTP side: /health (can it reach Redis and the metadata-service?) and /metrics. */
import { createServiceApp, createServiceMetrics, health, mountMetrics, type HealthCheck, type Logger } from '@drive-import/common';
import type { Registry } from 'prom-client';

export interface WorkerAppDeps {
  log: Logger;
  /** The worker's own registry (createWorkerMetrics): /metrics serves its series with the HTTP ones. */
  registry: Registry;
  /** Resolves when Redis answers (the BullMQ worker's connection). */
  pingRedis: HealthCheck;
  /** Resolves when the metadata-service answers: without it no batch can be fetched or reported. */
  pingMetadata: HealthCheck;
  /** INTERNAL_TOKEN (see createServiceApp): /metrics needs it. */
  internalToken?: string;
}

export function createWorkerApp(deps: WorkerAppDeps) {
  const app = createServiceApp(deps.log, { internalToken: deps.internalToken });
  mountMetrics(app, createServiceMetrics('worker', { registry: deps.registry }));
  app.get('/health', (c) => health(c, 'worker', { redis: deps.pingRedis, 'metadata-service': deps.pingMetadata }));
  return app;
}
