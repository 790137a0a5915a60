/** Typed storage errors and the one retry rule the worker and the service share. */

export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid object key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}...` : key)}: ${reason}`);
  }
}

/** A key outside STORAGE_KEY_PREFIX: this deployment may not touch it (an InvalidKeyError, so never retried). */
export class KeyOutsidePrefixError extends InvalidKeyError {
  override name = 'KeyOutsidePrefixError';
  constructor(
    key: string,
    readonly prefix: string,
  ) {
    super(key, `outside STORAGE_KEY_PREFIX ${JSON.stringify(prefix)}`);
  }
}

/** The received bytes are not the ones Drive announced: nothing was stored under the key. */
export class ChecksumMismatchError extends Error {
  override name = 'ChecksumMismatchError';
  constructor(
    readonly kind: 'md5' | 'size',
    readonly expected: string,
    readonly actual: string,
    key?: string,
  ) {
    super(`${kind} mismatch${key ? ` for ${key}` : ''}: expected ${expected}, got ${actual}`);
  }
}

/** A get/head/delete/readUrl for a provider this deployment has no settings for, or a bad argument. */
export class StorageUsageError extends Error {
  override name = 'StorageUsageError';
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'EBUSY',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'REQUEST_SEND_ERROR', // @azure/core-rest-pipeline: the request never got an answer
]);

const RETRYABLE_S3_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'OperationAborted',
  'ServerBusy',
  'OperationTimedOut',
]);

/**
 * 5xx, throttling, timeouts and network resets: true. 4xx, bad keys, checksum mismatches (the
 * worker counts those as a failed try itself), cancellation and anything unknown: false.
 */
export function isRetryableStorageError(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  if (err instanceof InvalidKeyError || err instanceof ChecksumMismatchError || err instanceof StorageUsageError) return false;
  const e = err as Error & {
    code?: unknown;
    statusCode?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    Code?: unknown;
  };
  const status = typeof e.statusCode === 'number' ? e.statusCode : e.$metadata?.httpStatusCode;
  if (e.name === 'AbortError') return false;
  if (e.name === 'TimeoutError') return true;
  if (e.$retryable) return true;
  if (RETRYABLE_S3_CODES.has(e.name) || (typeof e.Code === 'string' && RETRYABLE_S3_CODES.has(e.Code))) return true;
  if (typeof e.code === 'string' && (RETRYABLE_CODES.has(e.code) || RETRYABLE_S3_CODES.has(e.code))) return true;
  if (typeof status === 'number' && status > 0) return status >= 500 || status === 429 || status === 408;
  return isRetryableStorageError(e.cause, depth + 1);
}
