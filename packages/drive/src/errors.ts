/** What a failed Drive call means for the caller: retry (and slow everyone down?) or give up with a reason. */
import { parseRetryAfter } from './retry.ts';

export interface DriveFailure {
  /** HTTP status, or null for a network-level failure. */
  status: number | null;
  /** Drive's `errors[0].reason` (e.g. userRateLimitExceeded), or the network error code. */
  reason: string | null;
  message: string;
  retryable: boolean;
  /** A quota answer: every replica must slow down, not just this one. */
  rateLimited: boolean;
  retryAfterMs: number | null;
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE', 'ABORT_ERR',
]);

interface GaxiosLike {
  message?: string;
  code?: string | number;
  status?: number;
  errors?: Array<{ reason?: string; message?: string }>;
  response?: { status?: number; headers?: unknown; data?: unknown };
  cause?: unknown;
}

function header(headers: unknown, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const v = (headers as Record<string, unknown>)[name] ?? (headers as Record<string, unknown>)[name.toLowerCase()];
  return typeof v === 'string' ? v : null;
}

/** Drive's error JSON can sit in errors[], response.data (maybe unparsed), or, on streamed calls, only in message. */
function driveErrorBody(e: GaxiosLike): { reason: string | null; message: string | null } {
  if (e.errors?.[0]?.reason) return { reason: e.errors[0].reason ?? null, message: e.errors[0].message ?? null };
  for (const candidate of [e.response?.data, e.message]) {
    let data = candidate;
    if (typeof data === 'string') {
      const start = data.indexOf('{');
      if (start < 0) continue;
      try {
        data = JSON.parse(data.slice(start));
      } catch {
        continue;
      }
    }
    const err = (data as { error?: { message?: string; errors?: Array<{ reason?: string }> } } | undefined)?.error;
    if (err) return { reason: err.errors?.[0]?.reason ?? null, message: err.message ?? null };
  }
  return { reason: null, message: null };
}

export function classifyDriveError(err: unknown): DriveFailure {
  const e = (err ?? {}) as GaxiosLike;
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : null);
  if (status === null) {
    const code = String(e.code ?? (e.cause as GaxiosLike | undefined)?.code ?? '');
    return {
      status: null,
      reason: code || null,
      message: e.message ?? String(err),
      // Unknown failures without a status are network trouble far more often than not.
      retryable: code === '' || NETWORK_CODES.has(code),
      rateLimited: false,
      retryAfterMs: null,
    };
  }
  const body = driveErrorBody(e);
  const rateLimited = status === 429 || (status === 403 && body.reason !== null && RATE_LIMIT_REASONS.has(body.reason));
  return {
    status,
    reason: body.reason,
    message: `Drive answered ${status}${body.reason ? ` ${body.reason}` : ''}: ${body.message ?? e.message ?? 'no message'}`,
    retryable: rateLimited || RETRYABLE_STATUS.has(status),
    rateLimited,
    retryAfterMs: parseRetryAfter(header(e.response?.headers, 'retry-after')),
  };
}
