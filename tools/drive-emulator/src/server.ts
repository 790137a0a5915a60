/**
 * The HTTP side, on plain node:http: the media path is the hot one (thousands of downloads per second)
 * and skipping the Web Request/Response translation measurably helps there (see the README).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { driveError, invalidParameter, notFoundError, type DriveErrorBody } from './errors.ts';
import { FaultEngine, type DriveKind, type Faults } from './faults.ts';
import { FieldsSyntaxError, parseFields, project, type Selection } from './fields.ts';
import { compileQuery, QuerySyntaxError } from './query.ts';
import { hash32 } from './random.ts';
import { StatsRecorder, type RequestKind } from './stats.ts';
import { FOLDER_MIME, SHORTCUT_MIME, type DriveItem, type DriveTree } from './tree.ts';

const JSON_TYPE = 'application/json; charset=UTF-8';
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

type Getter = (tree: DriveTree, item: DriveItem) => unknown;
/** Drive's File resource, field by field, computed only when selected (md5 of an image costs a hash). */
const FILE_FIELDS: Record<string, Getter> = {
  kind: () => 'drive#file',
  id: (_, i) => i.id,
  name: (_, i) => i.name,
  mimeType: (_, i) => i.mimeType,
  parents: (_, i) => i.parents,
  trashed: (_, i) => i.trashed,
  explicitlyTrashed: (_, i) => i.trashed,
  modifiedTime: (_, i) => i.modifiedTime,
  createdTime: (_, i) => i.modifiedTime,
  size: (_, i) => (i.size === null ? undefined : String(i.size)),
  quotaBytesUsed: (_, i) => String(i.size ?? 0),
  md5Checksum: (t, i) => t.md5Of(i) ?? undefined,
  fileExtension: (_, i) => (i.content && i.name.includes('.') ? i.name.slice(i.name.lastIndexOf('.') + 1) : undefined),
  originalFilename: (_, i) => (i.content ? i.name : undefined),
  imageMediaMetadata: (_, i) => i.image ?? undefined,
  shortcutDetails: (_, i) => i.shortcut ?? undefined,
  capabilities: (_, i) => ({ canDownload: i.content !== null, canListChildren: i.mimeType === FOLDER_MIME }),
  driveId: () => undefined,
  resourceKey: () => undefined,
};
const DEFAULT_FILE_SELECTION: Selection = new Map([['kind', true], ['id', true], ['name', true], ['mimeType', true]]);
const DEFAULT_LIST_SELECTION: Selection = new Map<string, Selection | true>([
  ['kind', true], ['nextPageToken', true], ['incompleteSearch', true], ['files', DEFAULT_FILE_SELECTION],
]);

function fileResource(tree: DriveTree, item: DriveItem, sel: Selection | true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const all = sel === true || sel.has('*');
  const keys = all ? Object.keys(FILE_FIELDS) : [...sel.keys()];
  for (const key of keys) {
    const value = FILE_FIELDS[key]?.(tree, item);
    if (value !== undefined) out[key] = all ? value : project(value, (sel as Selection).get(key)!);
  }
  return out;
}

export interface EmulatorServer {
  server: Server;
  faults: FaultEngine;
  stats: StatsRecorder;
}

export function createEmulatorServer(tree: DriveTree, initialFaults: Faults = {}): EmulatorServer {
  const faults = new FaultEngine();
  faults.set(initialFaults);
  const stats = new StatsRecorder();
  /** Filtered listings by query, so paging a big folder does not re-filter it for every page. */
  const listCache = new Map<string, DriveItem[]>();

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, count = true): void {
    const data = JSON.stringify(body);
    if (count) {
      const reason = (body as DriveErrorBody).error?.errors?.[0]?.reason;
      stats.status(status, status === 429 || (status === 403 && reason !== undefined && RATE_LIMIT_REASONS.has(reason)));
    }
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(data), ...headers });
    res.end(data);
  }

  function matching(q: string | null): DriveItem[] {
    const key = `${tree.version}\u0000${q ?? ''}`;
    const cached = listCache.get(key);
    if (cached) {
      listCache.delete(key); // LRU: move to the end
      listCache.set(key, cached);
      return cached;
    }
    const query = compileQuery(q);
    const out: DriveItem[] = [];
    if (query.parents) {
      const seen = new Set<string>();
      for (const parent of query.parents) {
        for (const id of tree.childIdsOf(parent)) {
          if (seen.has(id)) continue;
          seen.add(id);
          const item = tree.get(id)!;
          if (query.matches(item)) out.push(item);
        }
      }
    } else {
      for (const item of tree.all()) if (item.id !== tree.rootId && query.matches(item)) out.push(item);
    }
    listCache.set(key, out);
    if (listCache.size > 256) listCache.delete(listCache.keys().next().value!);
    return out;
  }

  const pageToken = (offset: number, q: string) => Buffer.from(`${offset}:${hash32(q).toString(36)}`).toString('base64url');

  function list(res: ServerResponse, params: URLSearchParams): void {
    const q = params.get('q');
    const sizeParam = params.get('pageSize');
    let pageSize = 100;
    if (sizeParam !== null) {
      pageSize = Number(sizeParam);
      if (!/^\d+$/.test(sizeParam) || pageSize < 1 || pageSize > 1000) {
        return sendJson(res, 400, invalidParameter('pageSize', `Invalid value '${sizeParam}'. Values must be within the range: [1, 1000]`));
      }
    }
    let sel: Selection = DEFAULT_LIST_SELECTION;
    let items: DriveItem[];
    try {
      const fields = params.get('fields');
      if (fields !== null && fields.trim() !== '') sel = parseFields(fields);
      items = matching(q);
    } catch (err) {
      if (err instanceof FieldsSyntaxError) return sendJson(res, 400, driveError(400, 'invalidParameter', err.message, { location: 'fields', locationType: 'parameter' }));
      if (err instanceof QuerySyntaxError) return sendJson(res, 400, invalidParameter('q'));
      throw err;
    }
    let offset = 0;
    const token = params.get('pageToken');
    if (token !== null && token !== '') {
      const m = /^(\d+):([0-9a-z]+)$/.exec(Buffer.from(token, 'base64url').toString('latin1'));
      offset = m ? Number(m[1]) : -1;
      if (!m || m[2] !== hash32(q ?? '').toString(36) || offset > items.length) return sendJson(res, 400, invalidParameter('pageToken'));
    }
    let end = Math.min(items.length, offset + faults.pageSize(pageSize));
    if (offset < items.length && faults.emptyPage()) end = offset;
    const all = sel.has('*');
    const body: Record<string, unknown> = {};
    if (all || sel.has('kind')) body.kind = 'drive#fileList';
    if ((all || sel.has('nextPageToken')) && end < items.length) body.nextPageToken = pageToken(end, q ?? '');
    if (all || sel.has('incompleteSearch')) body.incompleteSearch = false;
    const fileSel = all ? true : sel.get('files');
    if (fileSel !== undefined) body.files = items.slice(offset, end).map((item) => fileResource(tree, item, fileSel));
    sendJson(res, 200, body);
  }

  function get(res: ServerResponse, params: URLSearchParams, item: DriveItem): void {
    let sel: Selection = DEFAULT_FILE_SELECTION;
    const fields = params.get('fields');
    try {
      if (fields !== null && fields.trim() !== '') sel = parseFields(fields);
    } catch (err) {
      if (err instanceof FieldsSyntaxError) return sendJson(res, 400, driveError(400, 'invalidParameter', err.message, { location: 'fields', locationType: 'parameter' }));
      throw err;
    }
    sendJson(res, 200, fileResource(tree, item, sel));
  }

  function media(req: IncomingMessage, res: ServerResponse, item: DriveItem): void {
    const parts = tree.partsOf(item.id);
    if (!parts || item.mimeType === FOLDER_MIME || item.mimeType === SHORTCUT_MIME) {
      return sendJson(res, 403, driveError(403, 'fileNotDownloadable', undefined, { location: 'alt', locationType: 'parameter' }));
    }
    const size = item.size!;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] !== '' || m[2] !== '')) {
        if (m[1] === '') start = Math.max(0, size - Number(m[2]));
        else {
          start = Number(m[1]);
          if (m[2] !== '') end = Math.min(end, Number(m[2]));
        }
        if (start > end || start >= size) {
          stats.status(416, false);
          res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-type': JSON_TYPE });
          return void res.end(JSON.stringify(driveError(416)));
        }
        status = 206;
      }
    }
    stats.status(status, false);
    stats.download(item.id);
    const headers: Record<string, string | number> = { 'content-type': item.mimeType, 'content-length': end - start + 1, 'accept-ranges': 'bytes' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;

    const corrupt = faults.corrupt(item.id);
    const drop = faults.drop();
    const stall = faults.stall(item.id);
    const slow = faults.slowBodyBytesPerSecond();
    if (!corrupt && !drop && !stall && slow === null && status === 200) {
      // The hot path: no copy of the shared part of the image.
      res.writeHead(200, headers);
      stats.sent(size);
      if (parts.length === 1) return void res.end(parts[0]);
      // Separate writes, corked into one writev: no 100 KB copy (and its GC) per download.
      res.cork();
      for (const part of parts) res.write(part);
      res.uncork();
      return void res.end();
    }
    let body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (corrupt) {
      body = Buffer.from(body); // never touch the shared buffers
      body[Math.floor(size / 2)]! ^= 0xff;
      stats.corrupt();
    }
    body = body.subarray(start, end + 1);
    res.writeHead(status, headers);
    if (drop) {
      stats.drop();
      const half = body.subarray(0, Math.floor(body.length / 2));
      stats.sent(half.length);
      res.write(half, () => res.socket?.destroy());
      return;
    }
    if (stall) {
      // Half the body, then nothing: the connection stays open until the client gives up on it.
      const half = body.subarray(0, Math.floor(body.length / 2));
      stats.sent(half.length);
      res.write(half);
      return;
    }
    if (slow === null) {
      stats.sent(body.length);
      return void res.end(body);
    }
    // Throttled: a slice every 50 ms; stops when the client goes away.
    const slice = Math.max(1, Math.floor(slow / 20));
    let offset = 0;
    const tick = () => {
      if (res.destroyed) return;
      const next = body.subarray(offset, offset + slice);
      offset += next.length;
      stats.sent(next.length);
      if (offset >= body.length) return void res.end(next);
      res.write(next);
      setTimeout(tick, 50).unref();
    };
    tick();
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string, params: URLSearchParams): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/__emulator/stats' && method === 'GET') {
      const s = stats.snapshot();
      const windowMs = Number(params.get('window_ms') ?? 1000) || 1000;
      const { timestamps, maxInWindow, ...rest } = s;
      return sendJson(res, 200, { ...rest, windowMs, maxInWindow: maxInWindow(windowMs), ...(params.get('timestamps') ? { timestamps } : {}) }, {}, false);
    }
    if (path === '/__emulator/reset-stats' && method === 'POST') {
      stats.reset();
      return sendJson(res, 200, { ok: true }, {}, false);
    }
    if (path === '/__emulator/faults' && method === 'GET') return sendJson(res, 200, faults.get(), {}, false);
    if (path === '/__emulator/faults' && method === 'POST') {
      try {
        faults.set(JSON.parse((await readBody(req)) || '{}'));
      } catch (err) {
        return sendJson(res, 400, { error: { code: 400, message: err instanceof Error ? err.message : String(err) } }, {}, false);
      }
      return sendJson(res, 200, faults.get(), {}, false);
    }
    if (path === '/__emulator/tree' && method === 'GET') {
      return sendJson(res, 200, { rootId: tree.rootId, rootName: tree.rootName, ...tree.counts(), expectedImages: tree.expectedImageCount() }, {}, false);
    }
    if (path === '/__emulator/items' && method === 'POST') {
      // Add an item at runtime from another process: {parentId, name, type: 'folder' | 'image' | 'file', mimeType?, content?}.
      try {
        const b = JSON.parse(await readBody(req)) as { parentId?: string; name?: string; type?: string; mimeType?: string; content?: string };
        const parent = b.parentId ?? tree.rootId;
        const name = String(b.name ?? '');
        const id =
          b.type === 'folder' ? tree.addFolder(parent, name)
          : b.type === 'image' ? tree.addImage(parent, name)
          : b.type === 'file' ? tree.addFile(parent, name, b.mimeType ?? 'text/plain', b.content ?? '')
          : null;
        if (id === null) throw new Error('type must be folder, image or file');
        return sendJson(res, 201, { id }, {}, false);
      } catch (err) {
        return sendJson(res, 400, { error: { code: 400, message: err instanceof Error ? err.message : String(err) } }, {}, false);
      }
    }
    return sendJson(res, 404, driveError(404, 'notFound', `No emulator route ${method} ${path}`), {}, false);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = performance.now();
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const params = new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1));
    if (path.startsWith('/__emulator/')) return control(req, res, path, params);

    let kind: RequestKind = 'other';
    let id: string | null = null;
    if (path === '/drive/v3/files' || path === '/drive/v3/files/') kind = 'list';
    else if (path.startsWith('/drive/v3/files/') && !path.includes('/', 16)) {
      try {
        id = decodeURIComponent(path.slice(16));
        kind = params.get('alt') === 'media' ? 'media' : 'get';
      } catch {
        // A malformed %-escape: no such file (kind stays 'other' -> 404).
      }
    }
    stats.request(kind, now);
    if (kind === 'other') return sendJson(res, 404, driveError(404, 'notFound', `Not found: ${path}`));
    if (req.method !== 'GET') return sendJson(res, 405, driveError(405, 'methodNotAllowed', `Method ${req.method} not allowed (read-only emulator)`));

    const injected = faults.decide(kind as DriveKind, id, now);
    const latency = faults.latency(kind as DriveKind);
    if (latency > 0) await new Promise((r) => setTimeout(r, latency).unref());
    if (res.destroyed) return;
    if (injected) {
      const headers: Record<string, string> = {};
      if (injected.retryAfterSeconds !== undefined) headers['retry-after'] = String(injected.retryAfterSeconds);
      const body = injected.status === 404 && !injected.message && id ? notFoundError(id) : driveError(injected.status, injected.reason, injected.message);
      return sendJson(res, injected.status, body, headers);
    }
    if (kind === 'list') return list(res, params);
    const item = tree.get(id!);
    if (!item) return sendJson(res, 404, notFoundError(id!));
    if (kind === 'get') return get(res, params, item);
    return media(req, res, item);
  }

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, driveError(500, 'backendError', `Emulator error: ${err instanceof Error ? err.message : String(err)}`));
    });
  });
  return { server, faults, stats };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) reject(new Error('body larger than 1 MB'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
