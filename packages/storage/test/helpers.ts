/** Deterministic generated bodies (never held whole) and small stream utilities for the tests. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;

function block(seed: number): Buffer {
  const out = Buffer.alloc(CHUNK);
  let h = createHash('sha256').update(`seed-${seed}`).digest();
  for (let off = 0; off < CHUNK; off += h.length) {
    h.copy(out, off);
    h = createHash('sha256').update(h).digest();
  }
  return out;
}

/** `size` bytes in 64 KiB chunks, the same for the same seed; each chunk stamped with its index. */
export function* chunks(size: number, seed: number): Generator<Buffer> {
  const base = block(seed);
  for (let off = 0, i = 0; off < size; off += CHUNK, i++) {
    const b = Buffer.from(base.subarray(0, Math.min(CHUNK, size - off)));
    if (b.length >= 4) b.writeUInt32LE(i, 0);
    yield b;
  }
}

export const body = (size: number, seed: number) => Readable.from(chunks(size, seed), { objectMode: false });
export const bytesOf = (size: number, seed: number) => Buffer.concat([...chunks(size, seed)]);

export function md5Of(size: number, seed: number): string {
  const h = createHash('md5');
  for (const c of chunks(size, seed)) h.update(c);
  return h.digest('hex');
}

export const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** Hash and count a stream without keeping it. */
export async function digest(stream: AsyncIterable<Buffer | string>): Promise<{ md5: string; size: number }> {
  const h = createHash('md5');
  let size = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    h.update(b);
    size += b.length;
  }
  return { md5: h.digest('hex'), size };
}

export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts);
}

/** A body that yields `first`, then waits for `release` before the rest (to cancel mid-stream). */
export function slowBody(first: Buffer, rest: Buffer, release: Promise<void>): Readable {
  return Readable.from(
    (async function* () {
      yield first;
      await release;
      yield rest;
    })(),
    { objectMode: false },
  );
}
