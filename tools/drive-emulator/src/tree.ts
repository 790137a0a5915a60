/**
 * The files and folders the emulator serves. Items keep insertion order (the listing order), images
 * are generated lazily by a PngFactory (only size is known up front; md5 is computed on first need).
 * Generated images are compact (PngItem: times as small numbers, size and dimensions from the
 * factory, one shared parents array per folder), so a 1,000,000-image tree fits in ~250 MB.
 */
import { createHash } from 'node:crypto';
import { PngFactory } from './images.ts';
import { driveId, hash32, prng } from './random.ts';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';
export const SHORTCUT_MIME = 'application/vnd.google-apps.shortcut';
export const GOOGLE_DOC_MIME = 'application/vnd.google-apps.document';

export interface DriveItem {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  trashed: boolean;
  modifiedTime: string;
  /** Bytes: a generated PNG (by seed), given bytes, or none (folders, shortcuts, Google-native files). */
  content: { kind: 'png'; seed: number } | { kind: 'bytes'; data: Buffer } | null;
  size: number | null;
  /** Lazily computed for generated images (see DriveTree.md5Of). */
  md5: string | null;
  image: DriveImageMetadata | null;
  shortcut: { targetId: string; targetMimeType: string } | null;
}

/** Drive's imageMediaMetadata, the part the importer asks for. */
export interface DriveImageMetadata {
  width: number;
  height: number;
  time: string;
  cameraMake?: string;
  cameraModel?: string;
}

export interface ExpectedImage {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  md5: string;
  /** Raw folder names from the root (root excluded), joined by '/'; '' for the root itself. The path
   *  of the FIRST place a breadth-first walk from the root (children in listing order, shortcuts
   *  followed, trashed items skipped) meets the file. */
  folderPath: string;
  /** Every folder path where the file is reachable (several parents, shortcuts), first one = folderPath. */
  folderPaths: string[];
  width: number;
  height: number;
  modifiedTime: string;
  takenAt: string;
}

export interface TreeOptions {
  seed?: number;
  /** Approximate byte size of generated images (default ~2 KB). */
  imageBytes?: number;
  rootName?: string;
  rootId?: string;
}

export interface AddOptions {
  id?: string;
  trashed?: boolean;
  modifiedTime?: string;
  /** Extra parents besides the first (a file in two folders). */
  moreParents?: string[];
  /** addFile: the imageMediaMetadata Drive reports for it (none by default). */
  image?: DriveImageMetadata;
}

/** One entry of DriveTree.fromList: a path below the root; missing folders on the way are created. */
export type ListEntry =
  | { type: 'folder'; path: string; id?: string }
  | { type: 'image'; path: string; id?: string; trashed?: boolean }
  | { type: 'file'; path: string; mimeType: string; content?: string | Buffer; id?: string; trashed?: boolean }
  | { type: 'doc'; path: string; id?: string }
  | { type: 'shortcut'; path: string; target: string; id?: string };

const BASE_TIME = Date.UTC(2024, 0, 1);
/** Whole seconds after BASE_TIME -> Drive's ISO time (ends in .000Z). */
const isoAt = (offsetS: number) => new Date(BASE_TIME + offsetS * 1000).toISOString();
/** The same instant in EXIF's format, as Drive reports imageMediaMetadata.time. */
const exifAt = (offsetS: number) => isoAt(offsetS).slice(0, 19).replace(/-/g, ':').replace('T', ' ');

/**
 * A generated PNG. Only what cannot be derived is stored (id, name, parents, seed, two times as
 * seconds); mimeType, size, content and image metadata are getters. Reads like any DriveItem.
 */
class PngItem implements DriveItem {
  trashed = false;
  md5: string | null = null;
  /** An explicit modifiedTime (AddOptions.modifiedTime), kept verbatim. */
  private mtimeText: string | null = null;

  constructor(
    private readonly factory: PngFactory,
    public readonly id: string,
    public name: string,
    public parents: string[],
    private readonly seed: number,
    private readonly mtimeS: number,
    private readonly takenS: number,
  ) {}

  get mimeType(): string {
    return 'image/png';
  }
  get modifiedTime(): string {
    return this.mtimeText ?? isoAt(this.mtimeS);
  }
  set modifiedTime(value: string) {
    this.mtimeText = value;
  }
  get content(): { kind: 'png'; seed: number } {
    return { kind: 'png', seed: this.seed };
  }
  get size(): number {
    return this.factory.info(this.seed).size;
  }
  get image(): { width: number; height: number; time: string } {
    const info = this.factory.info(this.seed);
    return { width: info.width, height: info.height, time: exifAt(this.takenS) };
  }
  get shortcut(): null {
    return null;
  }
}

export class DriveTree {
  readonly rootId: string;
  readonly rootName: string;
  readonly images: PngFactory;
  private readonly items = new Map<string, DriveItem>();
  private readonly childIds = new Map<string, string[]>();
  /** One frozen `[parentId]` per folder, shared by its single-parent children (addParent copies). */
  private readonly soleParent = new Map<string, string[]>();
  private readonly random: () => number;
  private counter = 0;
  /** Bumped on every change; listing caches key on it. */
  version = 0;

  constructor(options: TreeOptions = {}) {
    const seed = options.seed ?? 1;
    this.random = prng(seed);
    this.images = new PngFactory(options.imageBytes ?? 2000, seed);
    this.rootName = options.rootName ?? 'Emulated Drive folder';
    this.rootId = options.rootId ?? this.newId();
    this.insert({ id: this.rootId, name: this.rootName, mimeType: FOLDER_MIME, parents: [], trashed: false, modifiedTime: this.nextTime(), content: null, size: null, md5: null, image: null, shortcut: null });
  }

  /** Build a small special-case tree from paths, e.g. [{type:'folder', path:'empty'}, {type:'image', path:'a/x.png'}]. */
  static fromList(entries: ListEntry[], options: TreeOptions = {}): DriveTree {
    const tree = new DriveTree(options);
    for (const e of entries) {
      const parts = e.path.split('/').filter((p) => p !== '');
      const name = parts.pop();
      if (name === undefined) throw new Error(`empty path in tree entry ${JSON.stringify(e)}`);
      const parent = tree.ensureFolders(parts);
      const opts = { id: e.id, trashed: 'trashed' in e ? e.trashed : undefined };
      if (e.type === 'folder') tree.addFolder(parent, name, opts);
      else if (e.type === 'image') tree.addImage(parent, name, opts);
      else if (e.type === 'file') tree.addFile(parent, name, e.mimeType, e.content ?? '', opts);
      else if (e.type === 'doc') tree.addGoogleDoc(parent, name, opts);
      else {
        const target = tree.items.has(e.target) ? e.target : tree.idAt(e.target);
        tree.addShortcut(parent, name, target, opts);
      }
    }
    return tree;
  }

  // ------------------------------------------------------------------ building
  newId(): string {
    for (;;) {
      const id = driveId(this.random);
      if (!this.items.has(id)) return id;
    }
  }

  /** Seconds after BASE_TIME: whole seconds, so toISOString ends in .000Z as Drive's times do. */
  private nextTimeOffset(): number {
    return Math.floor(this.random() * 300 * 86400);
  }

  private nextTime(): string {
    return isoAt(this.nextTimeOffset());
  }

  private parentsArray(parentId: string, more: string[] | undefined): string[] {
    if (more?.length) return [parentId, ...more];
    let shared = this.soleParent.get(parentId);
    if (!shared) this.soleParent.set(parentId, (shared = Object.freeze([parentId]) as string[]));
    return shared;
  }

  private insert(item: DriveItem): DriveItem {
    if (this.items.has(item.id)) throw new Error(`duplicate id ${item.id}`);
    for (const p of item.parents) if (!this.items.has(p)) throw new Error(`unknown parent ${p}`);
    this.items.set(item.id, item);
    for (const p of item.parents) this.childrenArray(p).push(item.id);
    this.version++;
    return item;
  }

  private childrenArray(parentId: string): string[] {
    let list = this.childIds.get(parentId);
    if (!list) this.childIds.set(parentId, (list = []));
    return list;
  }

  private base(parentId: string, name: string, mimeType: string, o: AddOptions): DriveItem {
    return {
      id: o.id ?? this.newId(),
      name,
      mimeType,
      parents: this.parentsArray(parentId, o.moreParents),
      trashed: o.trashed ?? false,
      modifiedTime: o.modifiedTime ?? this.nextTime(),
      content: null,
      size: null,
      md5: null,
      image: null,
      shortcut: null,
    };
  }

  addFolder(parentId: string, name: string, o: AddOptions = {}): string {
    return this.insert(this.base(parentId, name, FOLDER_MIME, o)).id;
  }

  /** A generated PNG (image/png) of about the tree's imageBytes. */
  addImage(parentId: string, name: string, o: AddOptions = {}): string {
    // The same draws in the same order as every other item (id, then time), then the taken time.
    const id = o.id ?? this.newId();
    const mtimeS = o.modifiedTime === undefined ? this.nextTimeOffset() : Math.floor((Date.parse(o.modifiedTime) - BASE_TIME) / 1000);
    const takenS = mtimeS - Math.floor(this.random() * 30 * 86400);
    const item = new PngItem(this.images, id, name, this.parentsArray(parentId, o.moreParents), hash32(id), mtimeS, takenS);
    if (o.modifiedTime !== undefined) item.modifiedTime = o.modifiedTime;
    if (o.trashed) item.trashed = true;
    return this.insert(item).id;
  }

  /** A file with given bytes (text, pdf, or an image you encoded yourself). */
  addFile(parentId: string, name: string, mimeType: string, content: string | Buffer, o: AddOptions = {}): string {
    const item = this.base(parentId, name, mimeType, o);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    item.content = { kind: 'bytes', data };
    item.size = data.length;
    item.md5 = createHash('md5').update(data).digest('hex');
    if (o.image) item.image = o.image;
    return this.insert(item).id;
  }

  /** A Google Doc: no bytes, no size, no md5; not downloadable with alt=media. */
  addGoogleDoc(parentId: string, name: string, o: AddOptions = {}): string {
    return this.insert(this.base(parentId, name, GOOGLE_DOC_MIME, o)).id;
  }

  addShortcut(parentId: string, name: string, targetId: string, o: AddOptions = {}): string {
    const target = this.items.get(targetId);
    if (!target) throw new Error(`shortcut target ${targetId} does not exist`);
    const item = this.base(parentId, name, SHORTCUT_MIME, o);
    item.shortcut = { targetId, targetMimeType: target.mimeType };
    return this.insert(item).id;
  }

  /** Give an existing item one more parent (it then appears in both folders' listings). */
  addParent(id: string, parentId: string): void {
    const item = this.mustGet(id);
    if (!this.items.has(parentId)) throw new Error(`unknown parent ${parentId}`);
    if (item.parents.includes(parentId)) return;
    item.parents = [...item.parents, parentId]; // parents arrays may be shared: never push
    this.childrenArray(parentId).push(id);
    this.version++;
  }

  rename(id: string, name: string): void {
    this.mustGet(id).name = name;
    this.version++;
  }

  setTrashed(id: string, trashed = true): void {
    this.mustGet(id).trashed = trashed;
    this.version++;
  }

  /** The folder at a '/'-separated path of names below the root (first match per name). */
  idAt(path: string): string {
    let id = this.rootId;
    for (const part of path.split('/').filter((p) => p !== '')) {
      const next = this.children(id).find((c) => c.name === part);
      if (!next) throw new Error(`no item at ${path}`);
      id = next.id;
    }
    return id;
  }

  private ensureFolders(parts: string[]): string {
    let id = this.rootId;
    for (const part of parts) {
      const existing = this.children(id).find((c) => c.name === part && c.mimeType === FOLDER_MIME);
      id = existing ? existing.id : this.addFolder(id, part);
    }
    return id;
  }

  // ------------------------------------------------------------------ reading
  get(id: string): DriveItem | undefined {
    return this.items.get(id);
  }

  private mustGet(id: string): DriveItem {
    const item = this.items.get(id);
    if (!item) throw new Error(`unknown id ${id}`);
    return item;
  }

  children(parentId: string): DriveItem[] {
    return (this.childIds.get(parentId) ?? []).map((id) => this.items.get(id)!);
  }

  childIdsOf(parentId: string): readonly string[] {
    return this.childIds.get(parentId) ?? [];
  }

  all(): IterableIterator<DriveItem> {
    return this.items.values();
  }

  get size(): number {
    return this.items.size;
  }

  md5Of(item: DriveItem): string | null {
    if (item.md5 === null && item.content?.kind === 'png') item.md5 = this.images.md5(item.content.seed);
    return item.md5;
  }

  /** The file's bytes as parts to write in order (a generated image shares its big first part). */
  partsOf(id: string): Buffer[] | null {
    const c = this.items.get(id)?.content;
    if (!c) return null;
    return c.kind === 'png' ? this.images.parts(c.seed) : [c.data];
  }

  bytesOf(id: string): Buffer {
    const parts = this.partsOf(id);
    if (!parts) throw new Error(`${id} has no bytes`);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  counts(): { folders: number; files: number; images: number; shortcuts: number; trashed: number } {
    const c = { folders: 0, files: 0, images: 0, shortcuts: 0, trashed: 0 };
    for (const item of this.items.values()) {
      if (item.trashed) c.trashed++;
      if (item.mimeType === FOLDER_MIME) c.folders++;
      else if (item.mimeType === SHORTCUT_MIME) c.shortcuts++;
      else {
        c.files++;
        if (item.mimeType.startsWith('image/')) c.images++;
      }
    }
    return c;
  }

  /** expectedImages().length without building them (no md5 per image): cheap on a 1M-image tree. */
  expectedImageCount(): number {
    const found = new Set<string>();
    const visited = new Set<string>([this.rootId]);
    const queue: string[] = [this.rootId];
    for (let i = 0; i < queue.length; i++) {
      for (const id of this.childIdsOf(queue[i]!)) {
        let target = this.items.get(id)!;
        if (target.trashed) continue;
        if (target.shortcut) {
          const t = this.items.get(target.shortcut.targetId);
          if (!t || t.trashed) continue;
          target = t;
        }
        if (target.mimeType === FOLDER_MIME) {
          if (visited.has(target.id)) continue;
          visited.add(target.id);
          queue.push(target.id);
        } else if (target.mimeType.startsWith('image/') && target.size !== null) found.add(target.id);
      }
    }
    return found.size;
  }

  /**
   * The distinct images an importer of the root should end up with: a breadth-first walk from the
   * root over non-trashed children, following shortcuts (to folders, with a cycle guard, and to
   * images), each image id once.
   */
  expectedImages(): ExpectedImage[] {
    const found = new Map<string, ExpectedImage>();
    const visited = new Set<string>([this.rootId]);
    const queue: Array<{ id: string; path: string }> = [{ id: this.rootId, path: '' }];
    for (let i = 0; i < queue.length; i++) {
      const folder = queue[i]!;
      for (const child of this.children(folder.id)) {
        if (child.trashed) continue;
        let target = child;
        if (child.shortcut) {
          const t = this.items.get(child.shortcut.targetId);
          if (!t || t.trashed) continue;
          target = t;
        }
        if (target.mimeType === FOLDER_MIME) {
          if (visited.has(target.id)) continue;
          visited.add(target.id);
          queue.push({ id: target.id, path: folder.path === '' ? child.name : `${folder.path}/${child.name}` });
        } else if (target.mimeType.startsWith('image/') && target.size !== null) {
          const seen = found.get(target.id);
          if (seen) {
            if (!seen.folderPaths.includes(folder.path)) seen.folderPaths.push(folder.path);
            continue;
          }
          found.set(target.id, {
            id: target.id,
            name: target.name,
            mimeType: target.mimeType,
            size: target.size,
            md5: this.md5Of(target)!,
            folderPath: folder.path,
            folderPaths: [folder.path],
            width: target.image?.width ?? 0,
            height: target.image?.height ?? 0,
            modifiedTime: target.modifiedTime,
            takenAt: target.image?.time ?? '',
          });
        }
      }
    }
    return [...found.values()];
  }
}
