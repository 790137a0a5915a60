/**
 * Object keys: `<prefix>/<root folder id>/<folder path>/<name>`, deterministic and safe.
 * Each segment is sanitized (no `..`, no `/`, no control characters, bounded length); names that
 * collide inside one folder are told apart by their Drive id, whatever order the listing saw them in,
 * so the same Drive file always lands on the same key and a re-import leaves no orphan objects.
 */
import { createHash } from 'node:crypto';

/** Bytes per segment: well under every store's limit, leaving room for the id suffix. */
export const MAX_SEGMENT_BYTES = 180;
/** S3 and Azure both stop at 1,024 bytes/characters. */
export const MAX_KEY_BYTES = 1024;

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f\u0080-\u009f/\\]/g;

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
}

function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || name.length - dot > 16) return [name, ''];
  return [name.slice(0, dot), name.slice(dot)];
}

/** One path segment, safe for S3, Azure and a local file system. */
export function sanitizeSegment(raw: string, maxBytes = MAX_SEGMENT_BYTES): string {
  let s = raw.normalize('NFC').replace(UNSAFE, '_').trim();
  // No ".." anywhere (so no key can contain it), no lone "."; trailing dots vanish on some file systems.
  s = s.replace(/\.{2,}/g, (m) => '_'.repeat(m.length)).replace(/\.+$/, (m) => '_'.repeat(m.length));
  if (s === '') s = '_';
  const [base, ext] = splitExtension(s);
  return truncateUtf8(base, maxBytes - Buffer.byteLength(ext)) + ext;
}

/**
 * Unique, sanitized names for the children of one folder (files and subfolders together, since a
 * local disk cannot hold a file and a folder of one name). Names that collide (case-insensitively)
 * all get ` (<drive id>)` before the extension; the rest keep their sanitized name.
 */
export function uniqueNames(children: ReadonlyArray<{ id: string; name: string }>): Map<string, string> {
  const byName = new Map<string, Array<{ id: string; safe: string }>>();
  for (const { id, name } of children) {
    const safe = sanitizeSegment(name);
    const k = safe.toLowerCase();
    const list = byName.get(k) ?? [];
    if (!list.some((e) => e.id === id)) list.push({ id, safe });
    byName.set(k, list);
  }
  const out = new Map<string, string>();
  for (const list of byName.values()) {
    for (const { id, safe } of list) {
      if (list.length === 1) {
        out.set(id, safe);
      } else {
        const [base, ext] = splitExtension(safe);
        const suffix = ` (${id})`;
        out.set(id, truncateUtf8(base, MAX_SEGMENT_BYTES - Buffer.byteLength(suffix + ext)) + suffix + ext);
      }
    }
  }
  return out;
}

/**
 * The full key. `folderPath` is made of already-unique segments joined by `/` (the listing builds it
 * with uniqueNames); each is sanitized again here so no caller can smuggle `..` in.
 */
export function objectKey(parts: { prefix: string; rootFolderId: string; folderPath: string; name: string }): string {
  const prefix = parts.prefix.split('/').filter(Boolean).map((s) => sanitizeSegment(s));
  const folders = parts.folderPath.split('/').filter(Boolean).map((s) => sanitizeSegment(s));
  const head = [...prefix, sanitizeSegment(parts.rootFolderId)];
  const name = sanitizeSegment(parts.name);
  const key = [...head, ...folders, name].join('/');
  if (Buffer.byteLength(key) <= MAX_KEY_BYTES) return key;
  // Too deep: keep the key unique and stable by folding the folder path into its hash.
  const digest = createHash('sha256').update(folders.join('/')).digest('hex').slice(0, 16);
  return [...head, `_deep-${digest}`, name].join('/');
}
