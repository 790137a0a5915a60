/**
 * Who is calling: `Authorization: Bearer <token>` on every route but GET /health and the page's own
 * files. ADMIN_TOKEN (env) is an admin named "admin"; every other token is looked up by its sha256 in
 * the metadata-service (cached briefly, so a poll costs no lookup, and a revoke bites within the TTL).
 * Each token, and each client address that sends bad tokens, has a request budget (429 + Retry-After).
 */
import { createHash } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { ACTOR_HEADER, AppError, bearerToken, OWNER_HEADER, safeEqual, type AppEnv, type TokenIdentity } from '@drive-import/common';
import type { Context, MiddlewareHandler } from 'hono';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { sessionToken } from './session.ts';

export type Caller = TokenIdentity;
export type GatewayEnv = { Variables: AppEnv['Variables'] & { caller: Caller } };

export interface AuthOptions {
  /** ADMIN_TOKEN: an admin token that needs no database (automation, the demo). */
  adminToken?: string;
  /** The active token with this sha256, null when unknown or revoked; throws when it cannot tell. */
  lookup(hash: string): Promise<Caller | null>;
  /** How long a lookup's answer is reused, ms (default 10 s): the most a revoke waits to bite. */
  cacheTtlMs?: number;
  /** Requests per token (and failed attempts per client address); null = no limit. */
  limiter?: RateLimiterAbstract | null;
}

export const ENV_ADMIN: Caller = { name: 'admin', admin: true };

const unauthorized = (message: string) => new AppError(401, 'unauthorized', message);
const CACHE_MAX = 10_000;

/** The rate limiter's refusal as the API's 429, Retry-After in whole seconds. */
function limited(c: Context, res: RateLimiterRes, what: string): never {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  c.header('Retry-After', String(seconds));
  throw new AppError(429, 'rate_limited', `Too many requests ${what}; retry in ${seconds} s`);
}

async function consume(c: Context, limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (err instanceof Error) throw err; // the store failed (its insurance limiter did too): not the caller's fault
    limited(c, err as RateLimiterRes, what);
  }
}

const clientAddress = (c: Context) => {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
};

export interface Auth {
  /** The caller a request's bearer token (else its session cookie) names, or null (no token, unknown, revoked). No rate limit. */
  identify(c: Context): Promise<Caller | null>;
  /** The caller `token` names, or a 401 (counted against the client address's budget of bad tokens). */
  verify(c: Context, token: string): Promise<Caller>;
  /** 401 without a valid token, 429 past the budget; sets `caller`. */
  required: MiddlewareHandler<GatewayEnv>;
}

export function createAuth(options: AuthOptions): Auth {
  const ttlMs = options.cacheTtlMs ?? 10_000;
  const cache = new Map<string, { at: number; caller: Promise<Caller | null> }>();

  const lookup = (hash: string): Promise<Caller | null> => {
    const hit = cache.get(hash);
    if (hit && performance.now() - hit.at < ttlMs) return hit.caller;
    const caller = options.lookup(hash);
    cache.delete(hash);
    cache.set(hash, { at: performance.now(), caller });
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
    caller.catch(() => cache.delete(hash)); // "could not tell" is never remembered
    return caller;
  };

  const callerOf = async (token: string): Promise<Caller | null> => {
    if (options.adminToken && safeEqual(token, options.adminToken)) return ENV_ADMIN;
    return lookup(createHash('sha256').update(token).digest('hex'));
  };
  // The header wins: a script with a token is never taken for the browser's signed-in user.
  const identify = async (c: Context): Promise<Caller | null> => {
    const token = c.req.header('authorization') === undefined ? sessionToken(c) : bearerToken(c.req.header('authorization'));
    return token === null ? null : callerOf(token);
  };
  const refuse = async (c: Context, message: string): Promise<never> => {
    // Guessing is pointless against 256-bit tokens, but each guess costs a lookup: budget them per address.
    if (options.limiter) await consume(c, options.limiter, `fail:${clientAddress(c)}`, 'with a missing or bad token');
    throw unauthorized(message);
  };
  const verify = async (c: Context, token: string): Promise<Caller> => (await callerOf(token)) ?? refuse(c, 'unknown or revoked token');

  const required: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    const caller = await identify(c);
    if (!caller) {
      c.header('WWW-Authenticate', 'Bearer');
      return refuse(
        c,
        c.req.header('authorization') || sessionToken(c) ? 'unknown or revoked token' : 'Authorization: Bearer <token> (or a session from POST /api/session) is required (npm run token -- create <name>)',
      );
    }
    if (options.limiter) await consume(c, options.limiter, `token:${caller.name}`, `for token ${caller.name}`);
    c.set('caller', caller);
    await next();
  };
  return { identify, verify, required };
}

/**
 * The headers every call to the metadata-service carries for a caller: who acts (the activity log)
 * and, for a non-admin token, the owner every job and image read and change is limited to.
 */
export const scope = (caller: Caller): Record<string, string> => ({
  [ACTOR_HEADER]: caller.name,
  ...(caller.admin ? {} : { [OWNER_HEADER]: caller.name }),
});

/** Only admin tokens (bull-board, /metrics, health details, every job). */
export const requireAdmin: MiddlewareHandler<GatewayEnv> = async (c, next) => {
  if (!c.get('caller')?.admin) throw new AppError(403, 'forbidden', 'this route needs an admin token');
  await next();
};
