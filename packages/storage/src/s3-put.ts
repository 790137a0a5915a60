/**
 * The hot path's PutObject without the SDK's per-request middleware: one SigV4-signed PUT sent with
 * undici. For a 100 KB object the SDK's send() costs about 0.96 ms of CPU (serializers, schema log
 * filters, endpoint rules, retry and checksum middleware), this about 0.33 ms (docs/performance.md).
 * What must be right stays the SDK's: it resolves the bucket's endpoint once (its own rules: path
 * style, dotted bucket names, FIPS, dual-stack, custom endpoints) and the credentials (its default
 * chain, refreshed by it). A bucket whose auth scheme is not plain SigV4 for "s3" (S3 Express,
 * multi-region access points) keeps the SDK's PutObject.
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Agent, request } from 'undici';
import { readErrorText } from '@drive-import/common';

export interface LeanPutInput {
  key: string;
  body: Readable;
  size: number;
  contentMd5?: string;
  contentType?: string | null;
  metadata?: Record<string, string>;
  signal: AbortSignal;
}

export interface LeanPut {
  /** PUT the object; resolves with its ETag, rejects with an S3PutError or the network's error. */
  put(input: LeanPutInput): Promise<string | undefined>;
  close(): Promise<void>;
}

/** S3's error answer, shaped like the SDK's service exceptions (name = Code, $metadata.httpStatusCode). */
export class S3PutError extends Error {
  readonly Code: string;
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  constructor(status: number, code: string | undefined, message: string | undefined, requestId: string | undefined) {
    super(message || code || `S3 answered ${status}`);
    this.name = code || `HTTP${status}`;
    this.Code = this.name;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

/** RFC 3986 per segment, as SigV4's canonical URI wants it (encodeURIComponent leaves !'()* alone). */
const encodeSegment = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const MAX_ERROR_BODY = 16 * 1024;
const xmlField = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

type ClientConfig = S3Client['config'] & {
  endpointProvider(params: Record<string, unknown>, context: Record<string, unknown>): { url: URL; properties?: { authSchemes?: Array<{ name?: string; signingName?: string; signingRegion?: string }> } };
  endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
};

/** The lean PUT for `bucket`, or null where the SDK must do it (an auth scheme other than SigV4 "s3"). */
export async function createLeanPut(client: S3Client, bucket: string, options: { connectTimeoutMs: number; requestTimeoutMs: number; connections: number }): Promise<LeanPut | null> {
  const config = client.config as ClientConfig;
  const custom = config.endpoint ? await config.endpoint() : undefined;
  const resolved = config.endpointProvider(
    {
      Bucket: bucket,
      Region: await config.region(),
      UseFIPS: await config.useFipsEndpoint(),
      UseDualStack: await config.useDualstackEndpoint(),
      ForcePathStyle: config.forcePathStyle,
      ...(custom ? { Endpoint: `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ''}${custom.path}` } : {}),
    },
    {},
  );
  const scheme = resolved.properties?.authSchemes?.[0];
  if (scheme?.name !== 'sigv4' || scheme.signingName !== 's3' || !scheme.signingRegion) return null;
  const base = resolved.url;
  const basePath = base.pathname.replace(/\/+$/, '');
  // Loaded with the first put, like the SDK itself: an idle worker does not hold it.
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const signer = new SignatureV4({ service: 's3', region: scheme.signingRegion, credentials: config.credentials, sha256: config.sha256, uriEscapePath: false, applyChecksum: false });
  const agent = new Agent({
    connections: options.connections,
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    keepAliveTimeout: 30_000,
  });
  const port = base.port ? Number(base.port) : undefined;

  return {
    async put(input) {
      const path = `${basePath}/${input.key.split('/').map(encodeSegment).join('/')}`;
      const headers: Record<string, string> = {
        host: base.host,
        'content-length': String(input.size),
        // The body is streamed, so its sha256 is not known up front; Content-MD5 lets S3 check it.
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      };
      if (input.contentMd5) headers['content-md5'] = input.contentMd5;
      if (input.contentType) headers['content-type'] = input.contentType;
      for (const [name, value] of Object.entries(input.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
      const signed = await signer.sign({ method: 'PUT', protocol: base.protocol, hostname: base.hostname, port, path, query: {}, headers });
      const res = await request(`${base.origin}${path}`, { method: 'PUT', headers: signed.headers, body: input.body, signal: input.signal, dispatcher: agent });
      if (res.statusCode === 200) {
        await res.body.dump();
        const etag = res.headers.etag;
        return Array.isArray(etag) ? etag[0] : etag;
      }
      const xml = await readErrorText(res.body, MAX_ERROR_BODY);
      const requestId = res.headers['x-amz-request-id'];
      throw new S3PutError(res.statusCode, xmlField(xml, 'Code'), xmlField(xml, 'Message'), typeof requestId === 'string' ? requestId : undefined);
    },
    close: () => agent.close(),
  };
}
