/**
 * Real PNG images of a chosen size, generated on demand and cheaply.
 *
 * Layout of every image (RGB, 8 bits, filter 0, zlib with STORED deflate blocks so the byte size is
 * known without compressing anything):
 *   signature + IHDR                    per variant (8 variants: different heights)
 *   IDAT #1: zlib header + top rows     SHARED by every image of this size (a soft 2D gradient with
 *                                       noise, as big as needed to reach imageBytes)
 *   IDAT #2: bottom rows + adler32      PER FILE (a gradient with stripes in colours from the file seed)
 *   IEND
 * A zlib stream may be split over several IDAT chunks, and adler32 simply continues from the shared
 * rows' state, so a file costs only its small band to build. The md5 of the shared prefix is hashed
 * once per variant and `Hash.copy()`-ed, so a file's md5 costs hashing its band only.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { prng } from './random.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const VARIANTS = 8;
const MAX_STORED = 65535;
/** The per-file band stays small (cheap to build per download) whatever the image size. */
const MAX_BAND_BYTES = 8 * 1024;

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Wrap raw bytes in stored deflate blocks; only the last block of the stream is marked final. */
function storedBlocks(raw: Buffer, final: boolean): Buffer {
  const blocks = Math.max(1, Math.ceil(raw.length / MAX_STORED));
  if (raw.length === 0 && !final) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(raw.length + blocks * 5);
  let o = 0;
  for (let b = 0; b < blocks; b++) {
    const start = b * MAX_STORED;
    const len = Math.min(MAX_STORED, raw.length - start);
    out[o++] = final && b === blocks - 1 ? 1 : 0;
    out.writeUInt16LE(len, o);
    out.writeUInt16LE(~len & 0xffff, o + 2);
    o += 4;
    raw.copy(out, o, start, start + len);
    o += len;
  }
  return out;
}

/** adler32 continued from state (a, b). */
function adler(a: number, b: number, data: Buffer): [number, number] {
  let i = 0;
  while (i < data.length) {
    const end = Math.min(data.length, i + 5552); // the largest run before the sums can overflow
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return [a, b];
}

interface Variant {
  height: number;
  bandRows: number;
  /** signature + IHDR + shared IDAT */
  prefix: Buffer;
  prefixHash: Hash;
  size: number;
}

export interface ImageInfo {
  width: number;
  height: number;
  size: number;
}

/** Every image of one target size; `fileSeed` (a 32-bit number) picks the variant and the colours. */
export class PngFactory {
  readonly width: number;
  private readonly rowBytes: number;
  private readonly sharedRows: number;
  private readonly baseBand: number;
  private readonly sharedIdat: Buffer;
  private readonly sharedAdler: [number, number];
  private readonly variants: Array<Variant | undefined> = [];

  constructor(readonly imageBytes: number, seed = 1) {
    const target = Math.max(200, Math.floor(imageBytes));
    // Roughly square images: 3 bytes per pixel, stored (uncompressed) so bytes ~ 3 * w * h.
    this.width = Math.min(4096, Math.max(16, Math.round(Math.sqrt(target / 3))));
    this.rowBytes = 1 + 3 * this.width;
    const overhead = 8 + 25 + 12 + 2 + 12 + 4 + 12 + 5 * Math.ceil(target / MAX_STORED);
    const totalRows = Math.max(2, Math.floor((target - overhead) / this.rowBytes));
    const band = Math.max(1, Math.min(Math.ceil(totalRows / 2), Math.floor(MAX_BAND_BYTES / this.rowBytes)));
    // Variants add 0..VARIANTS-1 rows to the band, centred on the target size.
    this.baseBand = Math.max(1, band - VARIANTS / 2);
    this.sharedRows = Math.max(0, totalRows - band);

    const raw = Buffer.allocUnsafe(this.sharedRows * this.rowBytes);
    const random = prng(seed ^ 0x5eed);
    for (let y = 0; y < this.sharedRows; y++) {
      let o = y * this.rowBytes;
      raw[o++] = 0;
      const gy = Math.floor((y * 255) / Math.max(1, this.sharedRows - 1));
      for (let x = 0; x < this.width; x++) {
        const gx = Math.floor((x * 255) / Math.max(1, this.width - 1));
        const n = Math.floor(random() * 48);
        raw[o++] = (gx * 3 + gy) >> 2;
        raw[o++] = 96 + (n >> 1);
        raw[o++] = (gy * 3 + (255 - gx)) >> 2;
      }
    }
    this.sharedAdler = adler(1, 0, raw);
    this.sharedIdat = chunk('IDAT', Buffer.concat([Buffer.from([0x78, 0x01]), storedBlocks(raw, false)]));
  }

  private variant(v: number): Variant {
    const cached = this.variants[v];
    if (cached) return cached;
    const bandRows = this.baseBand + v;
    const height = this.sharedRows + bandRows;
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    const prefix = Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), this.sharedIdat]);
    const bandRaw = bandRows * this.rowBytes;
    const bandIdat = 12 + bandRaw + 5 * Math.ceil(bandRaw / MAX_STORED) + 4;
    const made: Variant = { height, bandRows, prefix, prefixHash: createHash('md5').update(prefix), size: prefix.length + bandIdat + IEND.length };
    this.variants[v] = made;
    return made;
  }

  info(fileSeed: number): ImageInfo {
    const v = this.variant(fileSeed % VARIANTS);
    return { width: this.width, height: v.height, size: v.size };
  }

  /**
   * The per-file part: IDAT with the band rows and the adler32, then IEND, built in one buffer.
   * The band repeats two row templates, so its adler32 is combined row by row (O(1) per row) and
   * the only byte-by-byte work left is native (copies and crc32).
   */
  tail(fileSeed: number): Buffer {
    const v = this.variant(fileSeed % VARIANTS);
    const random = prng(fileSeed);
    const c1 = [random() * 255, random() * 255, random() * 255];
    const c2 = [random() * 255, random() * 255, random() * 255];
    const period = 3 + Math.floor(random() * 9);
    // Two row templates: a horizontal gradient with vertical stripes, then the same shifted by half a stripe.
    const rows = [Buffer.allocUnsafe(this.rowBytes), Buffer.allocUnsafe(this.rowBytes)];
    const sums: Array<[number, number]> = [];
    for (let r = 0; r < 2; r++) {
      const row = rows[r]!;
      let o = 0;
      row[o++] = 0;
      for (let x = 0; x < this.width; x++) {
        const t = x / Math.max(1, this.width - 1);
        const stripe = Math.floor((x + r * (period >> 1)) / period) & 1 ? 1 : 0.75;
        row[o++] = (c1[0]! + (c2[0]! - c1[0]!) * t) * stripe;
        row[o++] = (c1[1]! + (c2[1]! - c1[1]!) * t) * stripe;
        row[o++] = (c1[2]! + (c2[2]! - c1[2]!) * t) * stripe;
      }
      sums.push(adler(1, 0, row));
    }
    const rawLength = v.bandRows * this.rowBytes;
    const blocks = Math.max(1, Math.ceil(rawLength / MAX_STORED));
    const dataLength = rawLength + 5 * blocks + 4;
    const out = Buffer.allocUnsafe(12 + dataLength + IEND.length);
    out.writeUInt32BE(dataLength, 0);
    out.write('IDAT', 4, 'latin1');
    // Raw band bytes, split into stored blocks; adler32 continues from the shared rows' state.
    let [a, b] = this.sharedAdler;
    let o = 8;
    let y = 0;
    let inRow = 0; // bytes of row y already written (a row may straddle two blocks)
    for (let block = 0; block < blocks; block++) {
      const len = Math.min(MAX_STORED, rawLength - block * MAX_STORED);
      out[o++] = block === blocks - 1 ? 1 : 0;
      out.writeUInt16LE(len, o);
      out.writeUInt16LE(~len & 0xffff, o + 2);
      o += 4;
      let left = len;
      while (left > 0) {
        const t = (y >> 2) & 1;
        const n = Math.min(left, this.rowBytes - inRow);
        rows[t]!.copy(out, o, inRow, inRow + n);
        o += n;
        left -= n;
        inRow += n;
        if (inRow === this.rowBytes) {
          const [ra, rb] = sums[t]!;
          b = (b + rb + ((this.rowBytes * (a - 1)) % 65521)) % 65521;
          a = (a + ra - 1) % 65521;
          inRow = 0;
          y++;
        }
      }
    }
    out.writeUInt32BE(((b << 16) | a) >>> 0, o);
    o += 4;
    out.writeUInt32BE(crc32(out.subarray(4, o)), o);
    IEND.copy(out, o + 4);
    return out;
  }

  /** The image as [shared prefix, per-file tail]: write both, no copy of the big part. */
  parts(fileSeed: number): [Buffer, Buffer] {
    return [this.variant(fileSeed % VARIANTS).prefix, this.tail(fileSeed)];
  }

  md5(fileSeed: number, tail = this.tail(fileSeed)): string {
    return this.variant(fileSeed % VARIANTS).prefixHash.copy().update(tail).digest('hex');
  }
}
