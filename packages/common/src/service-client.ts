/** A small typed HTTP client for one internal service: JSON in, zod-checked JSON out, errors as AppError. */
import type { z } from 'zod';
import { AppError } from './errors.ts';

export interface CallOptions<S extends z.ZodType | undefined> {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  requestId?: string;
  schema?: S;
  timeoutMs?: number;
}

export class ServiceClient {
  constructor(
    readonly service: string,
    readonly baseUrl: string,
    private readonly defaultTimeoutMs = 30_000,
  ) {}

  /**
   * A 4xx from the service comes back as the same AppError (its code and message pass through);
   * a 5xx, a timeout or a refused connection becomes a 502/503 `upstream_*` AppError, which callers
   * treat as "try again later".
   */
  async call<S extends z.ZodType | undefined = undefined>(
    method: string,
    path: string,
    options: CallOptions<S> = {},
  ): Promise<S extends z.ZodType ? z.infer<S> : unknown> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.requestId) headers['x-request-id'] = options.requestId;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs ?? this.defaultTimeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new AppError(503, 'upstream_unavailable', `${this.service} is unreachable: ${reason}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: reported below */
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (res.status >= 400 && res.status < 500 && e?.code) {
        throw new AppError(res.status as 400, e.code, e.message ?? `${this.service} answered ${res.status}`);
      }
      throw new AppError(502, 'upstream_error', `${this.service} answered ${res.status}: ${e?.message ?? text.slice(0, 200)}`);
    }
    if (!options.schema) return json as never;
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      throw new AppError(502, 'upstream_invalid', `${this.service} sent an unexpected body: ${parsed.error.message.slice(0, 500)}`);
    }
    return parsed.data as never;
  }
}

/** True for errors worth retrying later (the other service is down or overloaded). */
export const isUnavailable = (err: unknown) => err instanceof AppError && err.status >= 500;
