/**
 * The check made before a job exists: does the folder exist, can we read it, is it a folder?
 * One files.get (two when the id is a shortcut to a folder), so a bad link is a 4xx at POST time
 * instead of a job that fails a minute later.
 */
import { AppError, type Logger } from '@drive-import/common';
import { FOLDER_MIME, SHORTCUT_MIME, resourceKeyHeader, type DriveClient, type DrivePacer } from '@drive-import/drive';
import { DriveCallError, driveCall } from './drive-call.ts';

export interface CheckedFolder {
  /** The folder to walk: the target when the link was a shortcut. */
  folderId: string;
  name: string | null;
  /** Only kept for the id the user gave; a shortcut's target has its own (unknown) key. */
  resourceKey: string | null;
}

export interface FolderCheckDeps {
  drive: DriveClient;
  pacer: DrivePacer;
  log?: Logger;
}

const CHECK_FIELDS = 'id,name,mimeType,trashed,shortcutDetails(targetId,targetMimeType)';
/** The POST must stay quick: a few short retries, and never wait long for a pacer slot. */
const CHECK_ATTEMPTS = 3;
const CHECK_DEADLINE_MS = 8_000;

const HOW_TO_SHARE =
  'Share the folder as "Anyone with the link" (Viewer) and set GOOGLE_API_KEY, or share it with the ' +
  "service account's e-mail and set GOOGLE_APPLICATION_CREDENTIALS to that account's JSON key file.";

export async function checkFolder(deps: FolderCheckDeps, folderId: string, resourceKey: string | null): Promise<CheckedFolder> {
  const signal = AbortSignal.timeout(CHECK_DEADLINE_MS);
  const file = await getFile(deps, folderId, resourceKey, signal);
  if (file.trashed) throw new AppError(410, 'folder_trashed', `Folder ${folderId} is in the Drive trash; restore it first.`);
  if (file.mimeType === SHORTCUT_MIME) {
    const target = file.shortcutDetails?.targetId;
    if (!target || file.shortcutDetails?.targetMimeType !== FOLDER_MIME) {
      throw new AppError(400, 'not_a_folder', `${folderId} is a shortcut to a file, not to a folder.`);
    }
    // The shortcut's own name is what the user sees; the target must still be checked (trashed, access).
    const resolved = await getFile(deps, target, null, signal);
    if (resolved.trashed) throw new AppError(410, 'folder_trashed', `The shortcut ${folderId} points to folder ${target}, which is in the trash.`);
    if (resolved.mimeType !== FOLDER_MIME) throw new AppError(400, 'not_a_folder', `The shortcut ${folderId} does not point to a folder.`);
    return { folderId: target, name: resolved.name ?? file.name ?? null, resourceKey: null };
  }
  if (file.mimeType !== FOLDER_MIME) {
    throw new AppError(400, 'not_a_folder', `${folderId} is a file (${file.mimeType ?? 'unknown type'}), not a folder. Paste the link of the folder that holds the images.`);
  }
  return { folderId, name: file.name ?? null, resourceKey };
}

async function getFile(deps: FolderCheckDeps, fileId: string, resourceKey: string | null, signal: AbortSignal) {
  try {
    const res = await driveCall(
      () =>
        deps.drive.files.get(
          { fileId, fields: CHECK_FIELDS, supportsAllDrives: true },
          { headers: resourceKeyHeader(fileId, resourceKey), signal },
        ),
      { pacer: deps.pacer, log: deps.log, signal, maxAttempts: CHECK_ATTEMPTS, baseDelayMs: 200, maxDelayMs: 1000, what: `files.get ${fileId}` },
    );
    return res.data;
  } catch (err) {
    throw toAppError(err, fileId);
  }
}

function toAppError(err: unknown, fileId: string): AppError {
  if (!(err instanceof DriveCallError)) {
    const why = err instanceof Error ? err.message : String(err);
    return new AppError(503, 'drive_unavailable', `Google Drive could not be asked about ${fileId} in time (${why}); try again shortly.`);
  }
  const f = err.failure;
  if (f.status === 404) {
    return new AppError(404, 'folder_not_found', `Folder ${fileId} does not exist, or is not shared with these credentials. ${HOW_TO_SHARE}`);
  }
  if ((f.status === 403 && !f.rateLimited) || f.status === 401) {
    return new AppError(403, 'folder_not_accessible', `Folder ${fileId} cannot be read with these credentials (${f.reason ?? f.status}). ${HOW_TO_SHARE}`);
  }
  if (f.status === 400) return new AppError(400, 'invalid_folder_url', `Drive refused the id ${fileId}: ${f.message}`);
  return new AppError(503, 'drive_unavailable', `Google Drive is unavailable right now (${f.message}); try again shortly.`);
}
