/** Small deterministic helpers: a seeded PRNG, string hashing and Drive-like ids. */

/** mulberry32: tiny, fast and good enough for test data; the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, 32 bits: a stable number from a string (per-file image seeds, page-token checks). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A Drive-looking id (33 chars of [A-Za-z0-9_-], starting with "1" like real file ids). */
export function driveId(random: () => number): string {
  // One flat string from char codes: `id += c` would build a 33-node rope per id (slow for 1M-file trees).
  const codes = ID_CODES_SCRATCH;
  for (let i = 1; i < 33; i++) codes[i] = ID_CODES[Math.floor(random() * 64)]!;
  return String.fromCharCode.apply(null, codes);
}

const ID_CODES = Array.from(ID_CHARS, (c) => c.charCodeAt(0));
const ID_CODES_SCRATCH: number[] = new Array<number>(33).fill('1'.charCodeAt(0));
