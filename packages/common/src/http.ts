/** The pieces every service's Hono app shares: request ids, logging, limits, validation and one error shape. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { zValidator } from '@hono/zod-validator';
import { Hono, type Context, type ValidationTargets } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { AppError, ConfigError, type ErrorBody } from './errors.ts';
import { createLogger, type Logger } from './logger.ts';
import { scrubSecrets } from './secrets.ts';

/** Set by the compiled build (scripts/build.mjs); from source, read from the root package.json. */
declare const __DRIVE_IMPORT_VERSION__: string | undefined;
export const VERSION: string =
  typeof __DRIVE_IMPORT_VERSION__ === 'string'
    ? __DRIVE_IMPORT_VERSION__
    : (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export type AppEnv = { Variables: { requestId: string; log: Logger } };

const STATUS_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message: scrubSecrets(message), ...(details === undefined ? {} : { details }) } };
}

/** Turn zod issues into one readable line: `folder_url: Required; destination: Invalid option`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'body';
      return i.code === 'unrecognized_keys' ? `${where}: unknown field(s) ${i.keys.join(', ')}` : `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Constant-time string equality (hashing first makes the lengths equal, so the length leaks nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The bearer token of a request, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
  return match ? match[1]! : null;
}

export interface ServiceAppOptions {
  maxBodyBytes?: number;
  /**
   * The shared secret of the services (INTERNAL_TOKEN): when set, every route but `GET /health`
   * needs `Authorization: Bearer <it>`, so nothing outside the system can call an internal service.
   */
  internalToken?: string;
}

/**
 * A Hono app with request ids (X-Request-Id in and out, in every log line), request logging,
 * secure headers, a body limit, the internal token check and the error shape for everything that goes wrong.
 */
export function createServiceApp(log: Logger, options: ServiceAppOptions = {}) {
  const app = new Hono<AppEnv>();
  app.use(requestId({ limitLength: 128 }));
  app.use(async (c, next) => {
    const started = performance.now();
    c.set('log', log.child({ request_id: c.get('requestId') }));
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const line = { method: c.req.method, path: c.req.path, status: c.res.status, ms };
    if (c.res.status >= 500) c.var.log.error(line, 'request');
    else if (c.req.path === '/health' || c.req.path === '/metrics') c.var.log.trace(line, 'request');
    else c.var.log.debug(line, 'request');
  });
  app.use(secureHeaders());
  const { internalToken } = options;
  if (internalToken) {
    app.use(async (c, next) => {
      if (c.req.path === '/health' && (c.req.method === 'GET' || c.req.method === 'HEAD')) return next();
      const token = bearerToken(c.req.header('authorization'));
      if (token === null || !safeEqual(token, internalToken)) {
        return c.json(errorBody('unauthorized', 'this internal service needs the INTERNAL_TOKEN as its bearer token (Authorization header)'), 401);
      }
      return next();
    });
  }
  app.use(
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: (c) => c.json(errorBody('payload_too_large', `Request body is larger than ${options.maxBodyBytes ?? 1024 * 1024} bytes`), 413),
    }),
  );
  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof AppError) {
      if (err.status >= 500) (c.var.log ?? log).error({ err }, err.message);
      return c.json(errorBody(err.code, err.message, err.details), err.status);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      const malformed = /malformed json/i.test(err.message);
      const code = malformed ? 'invalid_json' : (STATUS_CODES[status] ?? 'error');
      return c.json(errorBody(code, malformed ? 'Request body is not valid JSON' : err.message || code), status);
    }
    (c.var.log ?? log).error({ err }, 'unhandled error');
    return c.json(errorBody('internal', 'Internal server error'), 500);
  });
  return app;
}

/** zod validation for a request part; a failure is a 400 in the error shape naming each bad field. */
export function validate<T extends keyof ValidationTargets, S extends z.ZodType>(target: T, schema: S) {
  return zValidator(target, schema, (result, c: Context) => {
    if (!result.success) {
      return c.json(errorBody('invalid_request', describeZodError(result.error as unknown as z.ZodError)), 400);
    }
    return undefined;
  });
}

export type HealthCheck = () => Promise<unknown>;

export interface HealthOptions {
  /** How long a check's answer (ok or the reason) is reused, in ms: at most one run per check per TTL whatever the traffic. Default 2000. */
  ttlMs?: number;
  /** How long a failed answer is reused, in ms (at most ttlMs): short, so a dependency that comes back (at start-up, after a restart) shows ok at once, while a down one is still asked at most once per this. Default 200. */
  failureTtlMs?: number;
  /** Per-check bound in ms: a check still running then is 'timed out after N ms'. Default 2000. */
  timeoutMs?: number;
  /** Clock in ms (tests). Default performance.now. */
  now?: () => number;
}

export const HEALTH_TTL_MS = 2000;
export const HEALTH_TIMEOUT_MS = 2000;
export const HEALTH_FAILURE_TTL_MS = 200;

/** One run of a check, bounded in time: 'ok' or the reason it failed. Never rejects. */
async function runCheck(check: HealthCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A dependency check made cheap under load: its answer ('ok' or the reason) is reused for `ttlMs`,
 * callers that arrive while it runs share that one run (single flight), and a run never takes
 * longer than `timeoutMs`. So N concurrent health calls cost one downstream call, not N.
 */
export function cachedCheck(check: HealthCheck, options: HealthOptions = {}): () => Promise<string> {
  const ttlMs = options.ttlMs ?? HEALTH_TTL_MS;
  const failureTtlMs = Math.min(options.failureTtlMs ?? HEALTH_FAILURE_TTL_MS, ttlMs);
  const timeoutMs = options.timeoutMs ?? HEALTH_TIMEOUT_MS;
  const now = options.now ?? (() => performance.now());
  let last: { value: string; at: number } | null = null;
  let inflight: Promise<string> | null = null;
  return () => {
    if (last && now() - last.at < (last.value === 'ok' ? ttlMs : failureTtlMs)) return Promise.resolve(last.value);
    inflight ??= runCheck(check, timeoutMs).then((value) => {
      last = { value, at: now() };
      inflight = null;
      return value;
    });
    return inflight;
  };
}

function healthBody(c: Context, service: string, entries: ReadonlyArray<readonly [string, string]>) {
  const ok = entries.every(([, v]) => v === 'ok');
  return c.json(
    { status: ok ? 'ok' : 'degraded', service, version: VERSION, checks: Object.fromEntries(entries) },
    ok ? 200 : 503,
  );
}

/**
 * Run each dependency check (bounded in time) on every call; 503 with the reasons when any fails.
 * For a route that may be hit hard (a load balancer, many probes), prefer `healthRoute`.
 */
export async function health(c: Context, service: string, checks: Record<string, HealthCheck>, timeoutMs = HEALTH_TIMEOUT_MS) {
  const entries = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const));
  return healthBody(c, service, entries);
}

/**
 * A /health handler whose checks are `cachedCheck`s built once: 200 `ok`, or 503 `degraded` with
 * the reasons, as `health` answers, but each dependency is asked at most once per TTL and callers
 * share an in-flight check, so the route stays cheap and bounded under any load.
 */
export function healthRoute(service: string, checks: Record<string, HealthCheck>, options: HealthOptions = {}) {
  const cached = Object.entries(checks).map(([name, check]) => [name, cachedCheck(check, options)] as const);
  return async (c: Context) => healthBody(c, service, await Promise.all(cached.map(async ([name, run]) => [name, await run()] as const)));
}

export interface RunningServer {
  server: ServerType;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serve a Hono app (port 0 picks a free one) on 127.0.0.1 by default. */
export function serveApp(
  app: { fetch: (req: Request) => Response | Promise<Response> },
  options: { port: number; hostname?: string },
): Promise<RunningServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname }, (info: AddressInfo) => {
      resolve({
        server,
        port: info.port,
        url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            const s = server as ServerType & { closeAllConnections?: () => void };
            server.close(() => done());
            s.closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}

/**
 * Run `shutdown` once on SIGTERM/SIGINT, then exit; a second signal exits at once.
 * Returns a function that removes the handlers (for tests).
 */
export function onShutdown(log: Logger, shutdown: () => Promise<void>): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down');
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/**
 * A service's process: load config, start, stop cleanly on SIGTERM/SIGINT. A start-up failure (a bad
 * env variable names itself) is printed to stderr whatever LOG_LEVEL says, and the process exits 1.
 */
export async function runService<C extends { LOG_LEVEL: string }>(
  service: string,
  loadConfig: () => C,
  start: (config: C, log: Logger) => Promise<{ close(): Promise<void> }>,
): Promise<void> {
  try {
    const config = loadConfig();
    const log = createLogger(service, config.LOG_LEVEL);
    const running = await start(config, log);
    onShutdown(log, () => running.close());
  } catch (err) {
    console.error(`${service}: ${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  }
}
