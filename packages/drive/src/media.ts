/**
 * A file's bytes: `GET /drive/v3/files/{id}?alt=media`, a plain authenticated GET sent with undici
 * directly. Google's client (gaxios, its fetch, its interceptors) stays for listing and metadata; on
 * the hot path it cost a quarter of the worker's CPU per file. Failures are thrown in the shape
 * classifyDriveError reads (status, headers, Drive's JSON error body), so retries judge them the same.
 * A body that stalls (no byte for readTimeoutMs) errors with UND_ERR_BODY_TIMEOUT: a retryable failure.
 */
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { readErrorText } from '@drive-import/common';
import { resourceKeyHeader, type DriveClientOptions, DRIVE_READONLY_SCOPE } from './client.ts';

export interface MediaOptions extends DriveClientOptions {
  /** The longest silence between two body bytes, and before the headers, in ms (default 60 s). */
  readTimeoutMs?: number;
  /** Sockets kept open to Drive (default 256: more than any worker has files in flight). */
  connections?: number;
}

export interface MediaDownloader {
  /** The body of one file, streaming. Rejects on a non-2xx answer or a network failure. */
  download(fileId: string, o: { resourceKey?: string | null; signal?: AbortSignal }): Promise<Readable>;
  close(): Promise<void>;
}

/** A Drive error answer, shaped like a GaxiosError for classifyDriveError. */
export class DriveHttpError extends Error {
  readonly status: number;
  readonly response: { status: number; headers: Record<string, string | string[] | undefined>; data: string };
  constructor(status: number, headers: Record<string, string | string[] | undefined>, body: string) {
    super(`Drive answered ${status}: ${body.slice(0, 500)}`);
    this.name = 'DriveHttpError';
    this.status = status;
    this.response = { status, headers, data: body };
  }
}

type AuthHeaders = () => Promise<Record<string, string>>;

/** Service-account headers (loaded only when a key file is configured), or none (API key in the URL). */
async function authHeaders(options: DriveClientOptions): Promise<AuthHeaders> {
  if (!options.credentialsFile) return async () => ({});
  const { GoogleAuth } = await import('google-auth-library');
  const auth = new GoogleAuth({ keyFile: options.credentialsFile, scopes: [DRIVE_READONLY_SCOPE] });
  // google-auth-library caches the access token and refreshes it before it expires.
  return async () => Object.fromEntries(new Headers((await auth.getRequestHeaders()) as ConstructorParameters<typeof Headers>[0]));
}

export function createMediaDownloader(options: MediaOptions): MediaDownloader {
  const readTimeoutMs = options.readTimeoutMs ?? 60_000;
  const agent = new Agent({ connections: options.connections ?? 256, keepAliveTimeout: 30_000, bodyTimeout: readTimeoutMs, headersTimeout: readTimeoutMs });
  const base = new URL('drive/v3/files/', options.rootUrl.endsWith('/') ? options.rootUrl : `${options.rootUrl}/`);
  const query = new URLSearchParams({ alt: 'media', supportsAllDrives: 'true' });
  if (options.apiKey) query.set('key', options.apiKey);
  const suffix = `?${query}`;
  let headers: Promise<AuthHeaders> | undefined;

  return {
    async download(fileId, o) {
      const auth = await (headers ??= authHeaders(options));
      const res = await request(`${base.href}${encodeURIComponent(fileId)}${suffix}`, {
        dispatcher: agent,
        signal: o.signal,
        headers: { ...(await auth()), ...resourceKeyHeader(fileId, o.resourceKey) },
      });
      if (res.statusCode >= 200 && res.statusCode < 300) return res.body;
      throw new DriveHttpError(res.statusCode, res.headers, await readErrorText(res.body));
    },
    close: () => agent.close(),
  };
}
