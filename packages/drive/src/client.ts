import { createRequire } from 'node:module';
import type * as GoogleDrive from '@googleapis/drive';
import type { drive_v3 } from '@googleapis/drive';

// Google's client loads when a client is made (the import-service): a worker, which downloads with
// undici (media.ts), never pays its memory and start-up time.
const load = createRequire(import.meta.url);

export type DriveClient = drive_v3.Drive;
export type DriveFile = drive_v3.Schema$File;

export const DRIVE_READONLY_SCOPE = 'https://www.googleapis.com/auth/drive.readonly';

export interface DriveClientOptions {
  /** DRIVE_API_ROOT_URL: Google's by default, the emulator's in tests. Must serve /drive/v3 at its root. */
  rootUrl: string;
  /** GOOGLE_API_KEY: enough for folders shared "anyone with the link". */
  apiKey?: string;
  /** GOOGLE_APPLICATION_CREDENTIALS: a service account JSON file, for private folders and shared drives. */
  credentialsFile?: string;
}

/**
 * Google's official Drive v3 client. Its built-in retries are off: they skip 403 userRateLimitExceeded
 * and back off slowly, so callers own the retry policy (see errors.ts, retry.ts and the pacer).
 */
export function createDriveClient(options: DriveClientOptions): DriveClient {
  const { auth: googleAuth, drive } = load('@googleapis/drive') as typeof GoogleDrive;
  const auth = options.credentialsFile
    ? new googleAuth.GoogleAuth({ keyFile: options.credentialsFile, scopes: [DRIVE_READONLY_SCOPE] })
    : options.apiKey;
  return drive({ version: 'v3', auth, rootUrl: options.rootUrl, retry: false });
}

/** The fields the importer uses, nothing more (Drive bills by work done). */
export const FILE_FIELDS =
  'id,name,mimeType,size,md5Checksum,modifiedTime,parents,trashed,imageMediaMetadata(width,height,time,cameraMake,cameraModel),shortcutDetails(targetId,targetMimeType)';
export const LIST_FIELDS = `nextPageToken,incompleteSearch,files(${FILE_FIELDS})`;

export const FOLDER_MIME = 'application/vnd.google-apps.folder';
export const SHORTCUT_MIME = 'application/vnd.google-apps.shortcut';
export const isImageMime = (mime: string | null | undefined) => !!mime && mime.startsWith('image/');

/** Send the resource key of a link-shared item created before 2021. */
export const resourceKeyHeader = (id: string, resourceKey: string | null | undefined) =>
  resourceKey ? { 'X-Goog-Drive-Resource-Keys': `${id}/${resourceKey}` } : undefined;
