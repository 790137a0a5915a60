/**
 * One HTTP byte range (RFC 9110 §14): `bytes=a-b`, `bytes=a-`, `bytes=-n`. Several ranges, another
 * unit or a malformed header are ignored (the whole object is served), as the RFC allows.
 */

/** Inclusive byte offsets within an object. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeSpec = { start: number; end: number | null } | { suffix: number };

const SINGLE_RANGE = /^bytes=(?:(\d{1,15})-(\d{0,15})|-(\d{1,15}))$/;

/** The header's one range, or null when there is none to honour. */
export function parseRangeHeader(header: string | undefined | null): RangeSpec | null {
  const m = header ? SINGLE_RANGE.exec(header.trim()) : null;
  if (!m) return null;
  if (m[3] !== undefined) return { suffix: Number(m[3]) };
  const start = Number(m[1]);
  const end = m[2] === '' ? null : Number(m[2]);
  if (end !== null && end < start) return null; // invalid: ignored
  return { start, end };
}

/** The range within an object of `size` bytes, or null when none of it is there (416). */
export function resolveRange(spec: RangeSpec, size: number): ByteRange | null {
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  if (spec.start >= size) return null;
  return { start: spec.start, end: spec.end === null ? size - 1 : Math.min(spec.end, size - 1) };
}

/** `Content-Range` of a 206 (`bytes a-b/size`) or a 416 (`bytes *\/size`). */
export const contentRange = (range: ByteRange | null, size: number) => (range ? `bytes ${range.start}-${range.end}/${size}` : `bytes */${size}`);

/** The whole object's size from a ranged answer's `Content-Range: bytes a-b/size`. */
export function sizeFromContentRange(value: string | undefined): number | null {
  const m = value ? /\/(\d+)\s*$/.exec(value) : null;
  return m ? Number(m[1]) : null;
}
