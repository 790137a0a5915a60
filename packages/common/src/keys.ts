/**
 * Object keys: `<prefix>/<root folder id>/<folder path>/<name>`, deterministic and safe.
 * Each segment is sanitized (no `..`, no `/`, no control characters, bounded length); names that
 * collide inside one folder are told apart by their Drive id, whatever order the listing saw them in,
 * so the same Drive file always lands on the same key and a re-import leaves no orphan objects.
 */
import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';

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

/** Case-insensitive identity of a name: two names equal here cannot share a case-insensitive disk. */
function fold(name: string): string {
  return name.toLowerCase();
}

/** Plain code-unit order: stable across locales and Node versions, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Longest id spelt out in a suffix; longer (non-Drive) ids are hashed so the suffix leaves room for the name. */
const MAX_SUFFIX_ID_BYTES = 64;

/**
 * ` (<id>)` before the extension, then ` (<id>~2)`, ` (<id>~3)`, ... for as long as `isTaken` says so.
 * The id is sanitized too, so the result is a fixed point of sanitizeSegment (objectKey sanitizes again).
 */
function suffixed(safe: string, id: string, isTaken: (name: string) => boolean): string {
  const [base, ext] = splitExtension(safe);
  let tag = sanitizeSegment(id);
  if (Buffer.byteLength(tag) > MAX_SUFFIX_ID_BYTES) tag = createHash('sha256').update(id).digest('hex').slice(0, 16);
  for (let attempt = 1; ; attempt++) {
    const suffix = attempt === 1 ? ` (${tag})` : ` (${tag}~${attempt})`;
    const name = truncateUtf8(base, MAX_SEGMENT_BYTES - Buffer.byteLength(suffix + ext)) + suffix + ext;
    if (!isTaken(name)) return name;
  }
}

/**
 * Unique, sanitized names for the children of one folder (files and subfolders together, since a
 * local disk cannot hold a file and a folder of one name). Names that collide (case-insensitively)
 * all get ` (<drive id>)` before the extension; the rest keep their sanitized name.
 *
 * A suffixed name can still meet another child's literal name (`x (A).jpg`), a name cut to the byte
 * limit, or the suffix of an id differing only in case; so every final name is checked against the
 * names already taken and moves on to ` (<id>~2)`, `~3`, ... when needed. Names that collide with
 * nobody are reserved first and suffixed ones are given out by id, so the result depends only on the
 * set of children, never on the listing order. Linear apart from sorting the few ids whose suffixed
 * name clashes again.
 */
export function uniqueNames(children: ReadonlyArray<{ id: string; name: string }>): Map<string, string> {
  const steps = uniqueNameSteps(children);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/** uniqueNames for a folder of any size: gives the event loop a turn every few thousand names. */
export async function uniqueNamesAsync(children: ReadonlyArray<{ id: string; name: string }>): Promise<Map<string, string>> {
  const steps = uniqueNameSteps(children);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    await setImmediate();
  }
}

/** Names handled between two yields of uniqueNameSteps. */
const NAMES_PER_STEP = 2000;

function* uniqueNameSteps(children: ReadonlyArray<{ id: string; name: string }>): Generator<void, Map<string, string>> {
  let work = 0;
  const tick = () => ++work % NAMES_PER_STEP === 0;
  // One entry per id (a file with several parents is listed more than once). Should one id come with
  // two names, the smaller sanitized name wins, again whatever the order.
  const safeById = new Map<string, string>();
  for (const { id, name } of children) {
    const safe = sanitizeSegment(name);
    const seen = safeById.get(id);
    if (seen === undefined || compare(safe, seen) < 0) safeById.set(id, safe);
    if (tick()) yield;
  }
  const idsByName = new Map<string, string[]>();
  for (const [id, safe] of safeById) {
    const k = fold(safe);
    const ids = idsByName.get(k);
    if (ids) ids.push(id);
    else idsByName.set(k, [id]);
    if (tick()) yield;
  }

  const out = new Map<string, string>();
  const taken = new Set<string>();
  const colliding: string[] = [];
  for (const [k, ids] of idsByName) {
    if (ids.length === 1) {
      out.set(ids[0]!, safeById.get(ids[0]!)!);
      taken.add(k);
    } else {
      for (const id of ids) colliding.push(id); // not push(...ids): a huge group would overflow the call stack
    }
    if (tick()) yield;
  }
  // Each colliding name's first choice, ` (<id>)`: nearly always free, so only the few that meet a
  // taken name or each other are sorted (by id) and moved on; no sort of the whole folder.
  const firstChoice = new Map<string, string>();
  const choosers = new Map<string, number>();
  for (const id of colliding) {
    const name = suffixed(safeById.get(id)!, id, () => false);
    firstChoice.set(id, name);
    choosers.set(fold(name), (choosers.get(fold(name)) ?? 0) + 1);
    if (tick()) yield;
  }
  const clashing: string[] = [];
  for (const [id, name] of firstChoice) {
    const k = fold(name);
    if (taken.has(k) || choosers.get(k)! > 1) clashing.push(id);
    else out.set(id, name);
    if (tick()) yield;
  }
  for (const [id, name] of firstChoice) if (out.has(id)) taken.add(fold(name));
  clashing.sort(compare);
  for (const id of clashing) {
    const name = suffixed(safeById.get(id)!, id, (n) => taken.has(fold(n)));
    out.set(id, name);
    taken.add(fold(name));
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
