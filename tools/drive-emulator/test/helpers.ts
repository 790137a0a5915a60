import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createDriveClient, type DriveClient, type DriveFile } from '@drive-import/drive';

export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

export const client = (url: string): DriveClient => createDriveClient({ rootUrl: url, apiKey: 'emulator' });

/** Download with the real client as a stream, the way the worker does. */
export async function download(drive: DriveClient, fileId: string, headers?: Record<string, string>): Promise<{ status: number; bytes: Buffer; headers: Record<string, string> }> {
  const res = await drive.files.get({ fileId, alt: 'media', supportsAllDrives: true }, { responseType: 'stream', headers });
  const chunks: Buffer[] = [];
  for await (const c of res.data as unknown as Readable) chunks.push(c as Buffer);
  const h: Record<string, string> = {};
  const raw = res.headers as unknown;
  if (raw && typeof (raw as Headers).forEach === 'function') (raw as Headers).forEach((v, k) => (h[k] = v));
  else Object.assign(h, raw);
  return { status: res.status, bytes: Buffer.concat(chunks), headers: h };
}

/** Every page of one query. */
export async function listAll(drive: DriveClient, q: string, pageSize = 1000, fields = 'nextPageToken,files(id,name,mimeType,size,md5Checksum,parents,trashed)') {
  const files: DriveFile[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  let emptyPages = 0;
  do {
    const res = await drive.files.list({ q, pageSize, pageToken, fields, supportsAllDrives: true, includeItemsFromAllDrives: true });
    pages++;
    if ((res.data.files ?? []).length === 0) emptyPages++;
    files.push(...(res.data.files ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken);
  return { files, pages, emptyPages };
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
