/**
 * Thumbnails from the bytes as they stream by: a tap in the download stream keeps references to the
 * chunks going to the store (no copy, no second download) up to a byte budget; after the upload
 * succeeded, sharp turns them into a WebP (THUMBNAIL_SIZE px on the long side) stored under
 * `<prefix>/thumbs/<rest of the key>.webp`. The tap never holds a chunk back and never fails the
 * stream: a file over the budget, one sharp cannot decode, or a failed thumbnail upload just has none.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { MAX_KEY_BYTES } from '@drive-import/common';
import type { StorageDriver } from '@drive-import/storage';

export const THUMBNAIL_SIZE = 320;
/** Decompression bombs: an image of more pixels than this gets no thumbnail (about 100 megapixels). */
export const THUMBNAIL_MAX_PIXELS = 100_000_000;

export interface ThumbnailOptions {
  /** Files larger than this (by Drive's size, or as counted when unknown) get no thumbnail. */
  maxBytes: number;
  /** STORAGE_KEY_PREFIX normalized (normalizeKeyPrefix): thumbs go right under it. */
  keyPrefix: string;
}

/** `<prefix>/thumbs/<rest>.webp` for `<prefix>/<rest>`; null when the key is outside the prefix or would be too long. */
export function thumbnailKey(storageKey: string, keyPrefix: string): string | null {
  let rest = storageKey;
  if (keyPrefix !== '') {
    if (!storageKey.startsWith(`${keyPrefix}/`)) return null;
    rest = storageKey.slice(keyPrefix.length + 1);
  }
  const key = `${keyPrefix === '' ? '' : `${keyPrefix}/`}thumbs/${rest}.webp`;
  return Buffer.byteLength(key) > MAX_KEY_BYTES ? null : key;
}

/** Passes every chunk straight on and keeps a reference to it while the total stays within `maxBytes`. */
export class ThumbnailTap extends Transform {
  #chunks: Buffer[] | null = [];
  #bytes = 0;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#chunks) {
      this.#bytes += chunk.length;
      if (this.#bytes > this.#maxBytes) this.#chunks = null; // over budget: let go of what was kept
      else this.#chunks.push(chunk);
    }
    callback(null, chunk);
  }

  /** The whole body, once the stream has ended within budget; null otherwise. */
  bytes(): Buffer | null {
    if (!this.#chunks || !this.writableFinished) return null;
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#bytes);
  }

  /** Drops the kept chunks (the try failed, or the thumbnail is made). */
  release(): void {
    this.#chunks = null;
  }
}

/** WebP bytes of the thumbnail, or null when sharp cannot decode the image. */
export async function renderThumbnail(input: Buffer): Promise<Buffer | null> {
  try {
    // Loaded on the first thumbnail: a worker never asked for one does not hold sharp (~30 MB).
    const { default: sharp } = await import('sharp');
    return await sharp(input, { limitInputPixels: THUMBNAIL_MAX_PIXELS, failOn: 'error' })
      .rotate() // honour EXIF orientation
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75, effort: 2 })
      .toBuffer();
  } catch {
    return null;
  }
}

/** Renders and stores the thumbnail of a body the tap saw in full; its key, or null when there is none. */
export async function storeThumbnail(
  store: StorageDriver,
  tap: ThumbnailTap,
  storageKey: string,
  options: ThumbnailOptions,
  signal: AbortSignal,
): Promise<string | null> {
  const input = tap.bytes();
  tap.release();
  const key = thumbnailKey(storageKey, options.keyPrefix);
  if (!input || !key) return null;
  const webp = await renderThumbnail(input);
  if (!webp) return null;
  try {
    await store.put({
      key,
      body: Readable.from([webp]),
      size: webp.length,
      md5: createHash('md5').update(webp).digest('hex'),
      contentType: 'image/webp',
      signal,
    });
    return key;
  } catch {
    return null; // the original is stored: a missing thumbnail does not fail the file
  }
}
