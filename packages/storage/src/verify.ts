import { createHash, type Hash } from 'node:crypto';
import { finished, type Readable, Transform, type TransformCallback } from 'node:stream';
import { ChecksumMismatchError, StorageUsageError } from './errors.ts';

export interface Expected {
  md5: string | null;
  size: number | null;
}

const MD5_HEX = /^[0-9a-f]{32}$/;

/** Lower-cased expected md5 after a format check (a malformed one would fail every upload). */
export function normalizeMd5(md5: string | null): string | null {
  if (md5 === null) return null;
  const hex = md5.trim().toLowerCase();
  if (!MD5_HEX.test(hex)) throw new StorageUsageError(`expected md5 must be 32 hex digits, got ${JSON.stringify(md5)}`);
  return hex;
}

/**
 * Passes bytes through while hashing and counting them, but HOLDS BACK the latest chunk. Only when
 * the source has ended and md5 and size match is that last chunk released and the stream ended; on
 * a mismatch the stream errors instead. A consumer therefore never sees a complete body that is
 * wrong: an upload of it fails before the store can commit it under the key.
 * (A zero-byte body has nothing to hold back; drivers handle expected size 0 by verifying first.)
 */
export class VerifyingStream extends Transform {
  readonly expected: Expected;
  #hash: Hash = createHash('md5');
  #bytes = 0;
  #held: Buffer | null = null;
  #result: { md5: string; size: number } | null = null;
  readonly #label: string | undefined;

  constructor(expected: Expected, label?: string) {
    super();
    this.expected = { md5: normalizeMd5(expected.md5), size: expected.size };
    if (expected.size !== null && (!Number.isSafeInteger(expected.size) || expected.size < 0)) {
      throw new StorageUsageError(`expected size must be a non-negative integer, got ${expected.size}`);
    }
    this.#label = label;
  }

  /** md5 and size of what went through; only after a successful end. */
  get result(): { md5: string; size: number } {
    if (!this.#result) throw new Error('VerifyingStream: body not fully verified');
    return this.#result;
  }

  get verified(): boolean {
    return this.#result !== null;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (buf.length === 0) return callback();
    this.#bytes += buf.length;
    this.#hash.update(buf);
    const { size } = this.expected;
    if (size !== null && this.#bytes > size) {
      // Fail as soon as it is too long; the held chunk is never released.
      return callback(new ChecksumMismatchError('size', `${size} bytes`, `at least ${this.#bytes} bytes`, this.#label));
    }
    const previous = this.#held;
    this.#held = buf;
    if (previous) callback(null, previous);
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    const md5 = this.#hash.digest('hex');
    const { size, md5: want } = this.expected;
    if (size !== null && this.#bytes !== size) {
      return callback(new ChecksumMismatchError('size', `${size} bytes`, `${this.#bytes} bytes`, this.#label));
    }
    if (want !== null && md5 !== want) return callback(new ChecksumMismatchError('md5', want, md5, this.#label));
    this.#result = { md5, size: this.#bytes };
    if (this.#held) this.push(this.#held);
    this.#held = null;
    callback();
  }
}

/** A put's body wired through a VerifyingStream, with one abort signal for the store request. */
export interface VerifiedBody {
  readonly stream: VerifyingStream;
  /** Aborted when the body fails (mismatch, source error) or the caller cancels: abort the store request with it. */
  readonly signal: AbortSignal;
  /** The body's own failure wins over the store error it caused (e.g. the SDK's AbortError). */
  rethrow(err: unknown): never;
  /** Drain the whole body through verification (for a zero-byte body, which has nothing to hold back). */
  drain(): Promise<void>;
  dispose(): void;
}

export function verifiedBody(input: {
  key: string;
  body: NodeJS.ReadableStream & { destroy(err?: Error): unknown };
  size: number | null;
  md5: string | null;
  signal?: AbortSignal;
}): VerifiedBody {
  const stream = new VerifyingStream({ md5: input.md5, size: input.size }, input.key);
  const controller = new AbortController();
  let failure: Error | null = null;
  const fail = (err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err));
    failure ??= error;
    if (!controller.signal.aborted) controller.abort(error);
  };
  const onCallerAbort = () => {
    const reason: unknown = input.signal?.reason;
    const err = reason instanceof Error ? reason : Object.assign(new Error('put cancelled'), { name: 'AbortError' });
    fail(err);
    stream.destroy(err);
  };
  stream.on('error', fail);
  // What pipeline() does, without the AbortController and DOMException it makes per call (a
  // measurable share of the worker's CPU at hundreds of files a second): a source failure or
  // premature close fails the stream, and the stream closing early stops the source (a Drive
  // download stops with the upload).
  const source = input.body as Readable;
  source.pipe(stream);
  finished(source, (err) => {
    if (!err) return;
    fail(err);
    stream.destroy(err);
  });
  stream.once('close', () => {
    if (!source.readableEnded && !source.destroyed) source.destroy();
  });
  if (input.signal?.aborted) onCallerAbort();
  else input.signal?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    stream,
    signal: controller.signal,
    rethrow(err: unknown): never {
      throw failure ?? err;
    },
    async drain() {
      for await (const chunk of stream) {
        void chunk;
      }
    },
    dispose() {
      input.signal?.removeEventListener('abort', onCallerAbort);
      // The store gave up first: stop reading the source too.
      if (!stream.verified && !stream.destroyed) stream.destroy();
    },
  };
}
