/**
 * Camera make and model from the file's own EXIF, for a photo Drive gave none for
 * (imageMediaMetadata.cameraMake/cameraModel): read from the head of the bytes as they stream to the
 * store (no second download). A tap keeps references to the first EXIF_HEAD_BYTES going by (JPEG's
 * EXIF segment is at most 64 KB, right at the start; TIFF and HEIC put theirs early too) and never
 * holds a chunk back or fails the stream; exifr reads Make and Model from them after the upload.
 * Files Drive described, or of a type without EXIF, get no tap at all: the hot path pays nothing.
 *
 * The tap sits in the store's put of the file's own key (withCameraTap), so copyFile is unchanged:
 * each try's upload gets a fresh tap, and the camera is read from the one whose upload succeeded.
 */
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { CopyFile } from '@drive-import/common';
import type { StorageDriver } from '@drive-import/storage';

/** How much of the file's start the tap keeps: JPEG's APP1 (EXIF) segment fits in 64 KB. */
export const EXIF_HEAD_BYTES = 64 * 1024;

/** Types whose files carry EXIF near their start, as exifr reads it. */
const EXIF_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/jpg', 'image/pjpeg', 'image/tiff', 'image/heic', 'image/heif', 'image/avif']);

/** The camera as FileResult carries it. */
export interface Camera {
  camera_make: string | null;
  camera_model: string | null;
}

/** Whether to read the camera from this file's bytes: Drive gave none and its type holds EXIF. */
export const wantsExifCamera = (file: CopyFile) => file.has_camera !== true && EXIF_TYPES.has(file.mime_type.toLowerCase());

/** Passes every chunk straight on and keeps references to the first `maxBytes` of them. */
export class HeadTap extends Transform {
  #chunks: Buffer[] = [];
  #bytes = 0;
  readonly #maxBytes: number;

  constructor(maxBytes = EXIF_HEAD_BYTES) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#bytes < this.#maxBytes) {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
    }
    callback(null, chunk);
  }

  /** The first bytes seen (up to maxBytes), and the kept chunks let go. */
  firstBytes(): Buffer {
    const head = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#bytes);
    this.#chunks = [];
    return head.length > this.#maxBytes ? head.subarray(0, this.#maxBytes) : head;
  }
}

/** A make or model as stored: trimmed, NULs dropped, at most 255 characters; null when empty. */
function cameraText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  // EXIF strings are NUL-padded.
  return value.replace(/\u0000/g, '').trim().slice(0, 255) || null;
}

/** Make and Model from EXIF in the head bytes; null when there is none (or it cannot be read). */
export async function cameraFromHead(head: Buffer): Promise<Camera | null> {
  try {
    const { default: exifr } = await import('exifr'); // loaded on the first file that needs it
    const tags = (await exifr.parse(head, ['Make', 'Model'])) as { Make?: unknown; Model?: unknown } | undefined;
    const camera = { camera_make: cameraText(tags?.Make), camera_model: cameraText(tags?.Model) };
    return camera.camera_make || camera.camera_model ? camera : null;
  } catch {
    return null; // truncated or odd EXIF: the file is stored all the same, without a camera
  }
}

/**
 * `store` with a HeadTap in every put of `file.storage_key` (not its thumbnail's), and `camera()`:
 * Make and Model from the head of the latest such upload (call it once the file is stored).
 */
export function withCameraTap(store: StorageDriver, file: CopyFile): { store: StorageDriver; camera(): Promise<Camera | null> } {
  let latest: HeadTap | null = null;
  const tapped: StorageDriver = {
    provider: store.provider,
    put(input) {
      if (input.key !== file.storage_key) return store.put(input);
      const tap = new HeadTap();
      latest = tap;
      // A body error reaches the upload unchanged (pipeline destroys the tap with it).
      return store.put({ ...input, body: pipeline(input.body, tap, () => {}) });
    },
    head: (key) => store.head(key),
    get: (key, range) => store.get(key, range),
    delete: (key) => store.delete(key),
    readUrl: (key, ttl) => store.readUrl(key, ttl),
    check: () => store.check(),
    close: () => store.close(),
  };
  return {
    store: tapped,
    camera: async () => {
      const tap = latest;
      latest = null;
      return tap ? cameraFromHead(tap.firstBytes()) : null;
    },
  };
}
