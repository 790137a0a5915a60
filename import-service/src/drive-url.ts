/**
 * Turn what a user pasted into a Drive folder id (and resource key). Strict on purpose: only the
 * forms Google hands out, only on the host drive.google.com, so a look-alike host or a file link
 * is a clear 400 instead of a confusing Drive error later.
 *
 * Decisions:
 * - `http:` is accepted as well as `https:`: the URL is never fetched, only its id is read, and
 *   old bookmarks still carry http. A URL without a scheme (`drive.google.com/drive/folders/<ID>`)
 *   is read as https, since that is how browsers show it.
 * - Userinfo (`user@`), a port, or any whitespace/control character inside the input is refused:
 *   those are tricks, not links Google makes (and WHATWG URL parsing would silently drop tabs).
 * - Unknown query parameters (usp=sharing, usp=drive_link, ...) are ignored; a repeated `id` is refused.
 */
import { AppError } from '@drive-import/common';

export interface ParsedFolderUrl {
  folderId: string;
  resourceKey: string | null;
}

export const ACCEPTED_FORMS =
  'Accepted forms: https://drive.google.com/drive/folders/<ID> (also /drive/u/<N>/folders/<ID>, ' +
  'optionally with ?usp=sharing, ?usp=drive_link or ?resourcekey=<KEY>), ' +
  'https://drive.google.com/open?id=<ID>, https://drive.google.com/folderview?id=<ID>, ' +
  'or a bare folder ID (10-200 letters, digits, "-" or "_").';

/** Matches contracts.DriveId. */
const ID = /^[A-Za-z0-9_-]{10,200}$/;
const RESOURCE_KEY = /^[A-Za-z0-9_-]{1,200}$/;
const MAX_INPUT = 2048;
const HOST = 'drive.google.com';
// eslint-disable-next-line no-control-regex
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

const FOLDERS_PATH = /^\/drive\/(?:u\/\d{1,2}\/)?folders\/([^/]+)\/?$/;
const ID_QUERY_PATHS = new Set(['/open', '/folderview']);

function invalid(reason: string): AppError {
  return new AppError(400, 'invalid_folder_url', `${reason}. ${ACCEPTED_FORMS}`);
}

export function parseFolderUrl(input: string): ParsedFolderUrl {
  if (typeof input !== 'string') throw invalid('The folder link must be a string');
  const text = input.trim();
  if (text === '') throw invalid('The folder link is empty');
  if (text.length > MAX_INPUT) throw invalid(`The folder link is longer than ${MAX_INPUT} characters`);
  if (WHITESPACE_OR_CONTROL.test(text)) throw invalid('The folder link contains spaces or control characters');

  if (ID.test(text)) return { folderId: text, resourceKey: null };

  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid('This is neither a Google Drive folder link nor a folder ID');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`Links with ${url.protocol} are not accepted`);
  if (url.username || url.password) throw invalid('The link must not contain a user name or password');
  if (url.hostname !== HOST) throw invalid(`The host must be ${HOST}, not ${url.hostname || 'empty'}`);
  if (url.port) throw invalid('The link must not name a port');

  const resourceKey = readResourceKey(url);
  const pathMatch = FOLDERS_PATH.exec(url.pathname);
  if (pathMatch) return { folderId: checkId(pathMatch[1]!), resourceKey };

  if (ID_QUERY_PATHS.has(url.pathname)) {
    const ids = url.searchParams.getAll('id');
    if (ids.length !== 1) throw invalid(`The link must carry exactly one id= parameter`);
    return { folderId: checkId(ids[0]!), resourceKey };
  }
  if (/^\/file\/d\//.test(url.pathname)) throw invalid('This is a link to a file, not to a folder');
  throw invalid(`The path ${url.pathname.slice(0, 100)} is not a Drive folder link`);
}

function checkId(raw: string): string {
  if (!ID.test(raw)) throw invalid('The folder ID in the link is not a valid Drive ID');
  return raw;
}

function readResourceKey(url: URL): string | null {
  const keys = url.searchParams.getAll('resourcekey');
  if (keys.length === 0) return null;
  if (keys.length > 1 || !RESOURCE_KEY.test(keys[0]!)) throw invalid('The resourcekey parameter is not valid');
  return keys[0]!;
}
