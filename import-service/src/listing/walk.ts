/**
 * The Drive walk: list every folder under the root (all pages, bounded parallel Drive calls),
 * follow shortcuts, never walk a folder twice, hand each file id over once per folder (the
 * metadata-service records a file under several parents once), and hand each folder's
 * images to `onFiles` with their object keys once all of that folder's pages are in (names are made
 * unique across the whole folder, so its keys need every page).
 */
import { setImmediate } from 'node:timers/promises';
import pLimit from 'p-limit';
import { ListedFile, objectKey, uniqueNamesAsync, type Logger } from '@drive-import/common';
import {
  FILE_FIELDS,
  FOLDER_MIME,
  LIST_FIELDS,
  SHORTCUT_MIME,
  isImageMime,
  resourceKeyHeader,
  type DriveClient,
  type DriveFile,
  type DrivePacer,
} from '@drive-import/drive';
import { DriveCallError, driveCall } from '../drive-call.ts';

export interface WalkOptions {
  drive: DriveClient;
  pacer: DrivePacer;
  log: Logger;
  /** Drive calls in flight at once for this walk (LISTING_CONCURRENCY). */
  concurrency: number;
  rootFolderId: string;
  resourceKey: string | null;
  /** STORAGE_KEY_PREFIX */
  keyPrefix: string;
  /** Called with each folder's new image files; the folder's slot is held until it resolves. */
  onFiles: (files: ListedFile[]) => Promise<void>;
  signal?: AbortSignal;
  /** Tries per Drive call before the walk gives up (default 6). */
  maxAttempts?: number;
}

export interface WalkStats {
  folders: number;
  files: number;
  driveCalls: number;
  skipped: { notImage: number; trashed: number; duplicate: number; folderSeen: number; unreachable: number };
}

/** Drive ids are [A-Za-z0-9_-]; checking before an id goes into a query keeps quotes out of `q`. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,200}$/;

type Entry =
  | { kind: 'folder'; id: string; name: string; targetId: string }
  | { kind: 'file'; id: string; name: string; file: DriveFile }
  | { kind: 'shortcut-file'; id: string; name: string; targetId: string };

export async function walkFolderTree(options: WalkOptions): Promise<WalkStats> {
  const { drive, pacer, log, signal } = options;
  const limit = pLimit(options.concurrency);
  const visitedFolders = new Set<string>([options.rootFolderId]);
  // Shortcut targets fetched already (bounded by the shortcuts, not by the files).
  const seenTargets = new Set<string>();
  const stats: WalkStats = { folders: 0, files: 0, driveCalls: 0, skipped: { notImage: 0, trashed: 0, duplicate: 0, folderSeen: 0, unreachable: 0 } };
  // Folders being listed or recorded at once (see listFolder).
  const folderSlots = pLimit(options.concurrency);

  const call = <T>(what: string, fn: () => Promise<T>) =>
    limit(() => {
      stats.driveCalls++;
      return driveCall(fn, { pacer, log, signal, maxAttempts: options.maxAttempts, what });
    });

  async function listChildren(folderId: string, resourceKey: string | null): Promise<DriveFile[]> {
    const children: DriveFile[] = [];
    let pageToken: string | undefined;
    // Pages can be short or even empty while a nextPageToken remains: only its absence ends the list.
    do {
      const res = await call(`files.list ${folderId}`, () =>
        drive.files.list(
          {
            q: `'${folderId}' in parents and trashed = false`,
            pageSize: 1000,
            fields: LIST_FIELDS,
            supportsAllDrives: true,
            includeItemsFromAllDrives: true,
            pageToken,
          },
          { headers: resourceKeyHeader(folderId, resourceKey), signal },
        ),
      );
      if (res.data.incompleteSearch) log.warn({ folder_id: folderId }, 'Drive reported an incomplete search');
      for (const child of res.data.files ?? []) children.push(child);
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    return children;
  }

  async function classify(children: DriveFile[]): Promise<Entry[]> {
    const entries: Entry[] = [];
    const ids = new Set<string>();
    let sinceYield = 0;
    for (const f of children) {
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await setImmediate();
      }
      if (!f.id || ids.has(f.id)) continue;
      ids.add(f.id);
      const name = f.name ?? f.id;
      if (f.trashed) {
        stats.skipped.trashed++;
      } else if (f.mimeType === FOLDER_MIME) {
        entries.push({ kind: 'folder', id: f.id, name, targetId: f.id });
      } else if (f.mimeType === SHORTCUT_MIME) {
        const target = f.shortcutDetails?.targetId;
        const targetMime = f.shortcutDetails?.targetMimeType;
        if (!target || !SAFE_ID.test(target)) stats.skipped.unreachable++;
        else if (targetMime === FOLDER_MIME) entries.push({ kind: 'folder', id: f.id, name, targetId: target });
        else if (isImageMime(targetMime)) entries.push({ kind: 'shortcut-file', id: f.id, name, targetId: target });
        else stats.skipped.notImage++;
      } else if (isImageMime(f.mimeType)) {
        entries.push({ kind: 'file', id: f.id, name, file: f });
      } else {
        stats.skipped.notImage++; // Google-native files, videos, PDFs...
      }
    }
    return entries;
  }

  /** A shortcut to an image: the listing only has the shortcut, so ask for the target's metadata. */
  async function shortcutTarget(targetId: string): Promise<DriveFile | null> {
    try {
      const res = await call(`files.get ${targetId}`, () =>
        drive.files.get({ fileId: targetId, fields: FILE_FIELDS, supportsAllDrives: true }, { signal }),
      );
      const f = res.data;
      if (f.trashed) stats.skipped.trashed++;
      else if (!isImageMime(f.mimeType)) stats.skipped.notImage++;
      else return f;
      return null;
    } catch (err) {
      if (!(err instanceof DriveCallError) || err.failure.retryable) throw err;
      // A dead or unshared shortcut target is the user's data, not our failure: skip it.
      stats.skipped.unreachable++;
      log.warn({ target_id: targetId, reason: err.failure.message }, 'shortcut target not reachable, skipped');
      return null;
    }
  }

  interface Subfolder {
    targetId: string;
    path: string;
  }

  /**
   * List one folder, record its images, and return its subfolders. Runs under a folder slot, held
   * until the folder's files are recorded: at most `concurrency` folders' listings are in memory, and
   * a metadata-service slower than Drive slows the walk instead of piling up files here.
   */
  async function listFolder(folderId: string, resourceKey: string | null, folderPath: string, isRoot: boolean): Promise<Subfolder[]> {
    let children: DriveFile[];
    try {
      children = await listChildren(folderId, resourceKey);
    } catch (err) {
      // A subfolder deleted or unshared while we walk is skipped; the root failing fails the job.
      if (isRoot || !(err instanceof DriveCallError) || err.failure.retryable) throw err;
      stats.skipped.unreachable++;
      log.warn({ folder_id: folderId, reason: err.failure.message }, 'subfolder not reachable, skipped');
      return [];
    }
    stats.folders++;
    const entries = await classify(children);
    children = [];
    // Files and subfolders together: a local disk cannot hold a file and a folder of one name.
    const names = await uniqueNamesAsync(entries.map((e) => ({ id: e.id, name: e.name })));
    const keyFor = (e: Entry) => objectKey({ prefix: options.keyPrefix, rootFolderId: options.rootFolderId, folderPath, name: names.get(e.id)! });

    const files: ListedFile[] = [];
    const shortcuts: Array<Extract<Entry, { kind: 'shortcut-file' }>> = [];
    const subfolders: Subfolder[] = [];
    const inFolder = new Set<string>();
    let sinceYield = 0;
    for (const e of entries) {
      // A folder of 200,000 images must not hold the event loop (lock renewals, health checks).
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await setImmediate();
      }
      if (e.kind === 'folder') {
        if (visitedFolders.has(e.targetId)) {
          stats.skipped.folderSeen++; // a cycle or a second path to the same folder
          continue;
        }
        visitedFolders.add(e.targetId);
        const name = names.get(e.id)!;
        subfolders.push({ targetId: e.targetId, path: folderPath ? `${folderPath}/${name}` : name });
        continue;
      }
      // Once per folder here; a file met again in another folder (several parents) is recorded once
      // by the metadata-service (upsert by job and drive id), so no set of every id listed is kept.
      const driveId = e.kind === 'file' ? e.file.id! : e.targetId;
      if (inFolder.has(driveId) || (e.kind === 'shortcut-file' && seenTargets.has(driveId))) {
        stats.skipped.duplicate++;
        continue;
      }
      inFolder.add(driveId);
      if (e.kind === 'file') files.push(toListedFile(e.file, e.name, folderPath, keyFor(e)));
      else {
        seenTargets.add(driveId);
        shortcuts.push(e);
      }
    }
    // Every target is awaited here, before any subfolder starts: a failure rejects this folder only.
    const targets = await Promise.all(shortcuts.map((e) => shortcutTarget(e.targetId)));
    shortcuts.forEach((e, i) => {
      const f = targets[i];
      if (f) files.push(toListedFile({ ...f, id: e.targetId }, e.name, folderPath, keyFor(e)));
    });
    if (files.length > 0) {
      stats.files += files.length;
      await options.onFiles(files);
    }
    return subfolders;
  }

  async function visit(folderId: string, resourceKey: string | null, folderPath: string, isRoot: boolean): Promise<void> {
    const subfolders = await folderSlots(() => listFolder(folderId, resourceKey, folderPath, isRoot));
    // Promise.all handles every sibling's rejection, so one failing subtree never goes unhandled.
    await Promise.all(subfolders.map((s) => visit(s.targetId, null, s.path, false)));
  }

  await visit(options.rootFolderId, options.resourceKey, '', true);
  return stats;
}

/** Entries handled between two yields to the event loop. */
const YIELD_EVERY = 1000;

const MD5 = /^[0-9a-f]{32}$/;

/** A camera make or model as stored: trimmed, at most 255 characters, null when empty. */
export const cameraText = (value: string | null | undefined): string | null => value?.trim().slice(0, 255) || null;

/** Drive's metadata, made to fit ListedFile: bad or missing values become null, never a rejected chunk. */
export function toListedFile(f: DriveFile, displayName: string, folderPath: string, storageKey: string): ListedFile {
  const size = f.size != null ? Number(f.size) : NaN;
  const meta = f.imageMediaMetadata;
  const listed: ListedFile = {
    drive_id: f.id!,
    name: (displayName || f.id!).slice(0, 4096),
    folder_path: folderPath.slice(0, 8192),
    mime_type: (f.mimeType ?? 'application/octet-stream').slice(0, 255),
    size: Number.isSafeInteger(size) && size >= 0 ? size : null,
    md5: f.md5Checksum && MD5.test(f.md5Checksum) ? f.md5Checksum : null,
    modified_time: f.modifiedTime && ListedFile.shape.modified_time.safeParse(f.modifiedTime).success ? f.modifiedTime : null,
    width: Number.isInteger(meta?.width) ? meta!.width! : null,
    height: Number.isInteger(meta?.height) ? meta!.height! : null,
    taken_at: meta?.time && meta.time.length <= 64 ? meta.time : null,
    camera_make: cameraText(meta?.cameraMake),
    camera_model: cameraText(meta?.cameraModel),
    storage_key: storageKey,
  };
  return listed;
}
