/**
 * Prometheus metrics every service shares: one Registry per app (not prom-client's global one, so
 * several apps in one test process do not collide), default process metrics, an HTTP request
 * duration histogram by route pattern, and the GET /metrics route.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** For services' own metrics, so they need no prom-client dependency of their own. */
export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ServiceMetrics {
  service: string;
  registry: Registry;
  httpDuration: Histogram<'service' | 'method' | 'route' | 'status'>;
  /** Times every request; route is the matched pattern (`/jobs/:id`), never the raw path. */
  middleware: MiddlewareHandler;
  /** GET /metrics: the registry in Prometheus text format. */
  handler(c: Context): Promise<Response>;
}

/** `import-service` -> `drive_import_import_service_` */
export const metricsPrefix = (service: string) => `drive_import_${service.replace(/[^A-Za-z0-9]+/g, '_')}_`;

export interface ServiceMetricsOptions {
  /** Register into this registry (e.g. the worker's own); default metrics are then left to its owner. */
  registry?: Registry;
}

let loopDelay: IntervalHistogram | undefined;

/** The process's event-loop delay histogram, started on first use and never reset. */
function processLoopDelay(): IntervalHistogram {
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
  }
  return loopDelay;
}

/**
 * `drive_import_eventloop_delay_max_seconds{service}`: the longest the event loop was blocked since
 * the metrics were created. prom-client's `nodejs_eventloop_lag_max_seconds` is reset at every
 * scrape, so a block between two scrapes by someone else is lost there; this one is not.
 */
function eventLoopMaxGauge(registry: Registry, service: string): void {
  if (registry.getSingleMetric('drive_import_eventloop_delay_max_seconds')) return; // a shared registry already has it
  const histogram = processLoopDelay();
  new Gauge({
    name: 'drive_import_eventloop_delay_max_seconds',
    help: 'Longest event-loop delay since the process started its metrics (monitorEventLoopDelay, never reset)',
    labelNames: ['service'] as const,
    registers: [registry],
    collect() {
      this.set({ service }, histogram.max / 1e9);
    },
  });
}

export function createServiceMetrics(service: string, options: ServiceMetricsOptions = {}): ServiceMetrics {
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry, prefix: metricsPrefix(service) });
  eventLoopMaxGauge(registry, service);
  const httpDuration = new Histogram({
    name: 'drive_import_http_request_duration_seconds',
    help: 'HTTP requests served, by service, method, route pattern and status',
    labelNames: ['service', 'method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    await next();
    // After next() the route index is the handler that answered; unmatched requests end on the
    // catch-all middleware's pattern (`/*`), so label cardinality stays bounded by the routes.
    const route = routePath(c) || 'unmatched';
    httpDuration.observe({ service, method: c.req.method, route, status: String(c.res.status) }, (performance.now() - started) / 1000);
  };
  const handler = async (c: Context) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType });
  return { service, registry, httpDuration, middleware, handler };
}

/**
 * Time every request and serve GET /metrics. Call right after `createServiceApp`, before any route:
 * middleware added after a route does not run for it.
 */
export function mountMetrics(app: Hono<any>, metrics: ServiceMetrics): void {
  app.use(metrics.middleware);
  app.get('/metrics', metrics.handler);
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/** What `queueDepthGauge` needs from a BullMQ Queue. */
export interface CountableQueue {
  name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

/**
 * `drive_import_queue_jobs{queue, state}`, read from Redis at each scrape. When Redis does not
 * answer the series are left out (the scrape still succeeds; the service's /health says why).
 */
export function queueDepthGauge(registry: Registry, queues: readonly CountableQueue[]): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: 'drive_import_queue_jobs',
    help: 'Jobs in each BullMQ queue by state, read at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async (q) => {
          const counts = await q.getJobCounts(...QUEUE_STATES).catch(() => null);
          if (counts) for (const state of QUEUE_STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
        }),
      );
    },
  });
}
