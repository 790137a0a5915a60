/**
 * Generated trees, deterministic from a seed. Either a regular tree (depth x foldersPerFolder, with
 * filesPerFolder images in every folder, the root included) or exact totals: `{files: 2500, depth: 3}`
 * or `{files: 100_000, folders: 1000}`. The options duplicateNames / oddNames / extras change names
 * and add non-image items, never the number of expected images.
 */
import { DriveTree } from './tree.ts';

export interface TreeSpec {
  seed?: number;
  /** Folder levels below the root (0 = just the root). Default 2. */
  depth?: number;
  /** Subfolders per folder (down to `depth`). Default 3. Ignored when `folders` is set. */
  foldersPerFolder?: number;
  /** Images in every folder, root included. Default 10. Ignored when `files` is set. */
  filesPerFolder?: number;
  /** Exact total of images, spread evenly over the folders (earlier folders get the remainder). */
  files?: number;
  /** Exact total of folders, the root included, filled level by level down to `depth`. */
  folders?: number;
  /** Approximate size of each image in bytes (default ~2 KB). */
  imageBytes?: number;
  /** Same-named images in some folders, and two sibling folders with the same name. */
  duplicateNames?: boolean;
  /**
   * Share of the images (0..1) whose name collides with another image of the same folder: spread
   * evenly, each takes its predecessor's name, alternately verbatim, lower-cased and with an
   * upper-case extension (IMG_0001.png, img_0001.png, IMG_0001.PNG). 1/3 for the million-file bench.
   */
  nameCollisions?: number;
  /** Names with '/', '\', '..', control characters, emoji, very long names. */
  oddNames?: boolean;
  /** Text and PDF files, a Google Doc, a trashed image, shortcuts (to an image; to an ancestor: a cycle), a two-parent image. */
  extras?: boolean;
  rootName?: string;
}

const ODD_FILE_NAMES = [
  'a/b/c.png',
  'back\\slash.png',
  '..',
  '../../etc/passwd.png',
  'ctrl\u0001\u0007\ttab\nnewline.png',
  '😀 party 🎉.png',
  `${'long-name-'.repeat(30)}.png`,
  ' leading and trailing spaces .png',
  'CON.png',
  'cafe\u0301 NFD.png',
  '.hidden.png',
  'no extension',
];
const ODD_FOLDER_NAMES = ['..', 'a/b', 'ctrl\u0002folder', '📁 emoji folder', `${'deep-'.repeat(60)}folder`];

/** Folder count per level below the root so that levels 1..depth hold `total - 1` folders. */
function branching(total: number, depth: number): number {
  let b = 1;
  for (;;) {
    let sum = 0;
    for (let i = 1, p = b; i <= depth; i++, p *= b) sum += p;
    if (sum >= total - 1) return b;
    b++;
  }
}

export function generateTree(spec: TreeSpec): DriveTree {
  const tree = new DriveTree({ seed: spec.seed, imageBytes: spec.imageBytes, rootName: spec.rootName });
  let depth = Math.max(0, spec.depth ?? 2);
  let perFolder = Math.max(0, spec.foldersPerFolder ?? 3);
  let totalFolders = Infinity;
  if (spec.folders !== undefined) {
    totalFolders = Math.max(1, spec.folders);
    if (totalFolders > 1 && depth === 0) depth = 1;
    perFolder = totalFolders > 1 ? branching(totalFolders, depth) : 0;
  }

  // Folders, breadth-first: levels[0] = [root], then each level's children.
  const folders: Array<{ id: string; level: number }> = [{ id: tree.rootId, level: 0 }];
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  for (let i = 0; i < folders.length && folders.length < totalFolders; i++) {
    const parent = folders[i]!;
    if (parent.level >= depth) break;
    for (let k = 1; k <= perFolder && folders.length < totalFolders; k++) {
      const id = tree.addFolder(parent.id, `Album ${pad(k, String(perFolder).length)}`);
      folders.push({ id, level: parent.level + 1 });
    }
  }

  // Images.
  const imagesPerFolder = (k: number) => {
    if (spec.files === undefined) return Math.max(0, spec.filesPerFolder ?? 10);
    const n = Math.max(0, spec.files);
    return Math.floor(n / folders.length) + (k < n % folders.length ? 1 : 0);
  };
  const imagesIn = new Map<string, string[]>();
  const share = Math.min(1, Math.max(0, spec.nameCollisions ?? 0));
  folders.forEach((f, k) => {
    const count = imagesPerFolder(k);
    const width = Math.max(4, String(count).length);
    const ids: string[] = [];
    let collided = 0;
    for (let i = 1; i <= count; i++) {
      // Bresenham: image i collides when the running share crosses a whole number (never the first).
      const collides = i > 1 && Math.floor(i * share) > Math.floor((i - 1) * share);
      let name = `IMG_${pad(i, width)}.png`;
      if (collides) {
        const base = `IMG_${pad(i - 1, width)}`;
        name = [`${base}.png`, `${base.toLowerCase()}.png`, `${base}.PNG`][collided++ % 3]!;
      }
      ids.push(tree.addImage(f.id, name));
    }
    imagesIn.set(f.id, ids);
  });

  const subfoldersOf = (id: string) => tree.children(id).filter((c) => c.mimeType === 'application/vnd.google-apps.folder');

  const keepName = new Set<string>();
  if (spec.duplicateNames) {
    folders.forEach((f, k) => {
      const ids = imagesIn.get(f.id)!;
      // Every other folder gets three files called like its first one.
      if (k % 2 === 0 && ids.length >= 4) {
        const name = tree.get(ids[0]!)!.name;
        for (const id of ids.slice(1, 4)) tree.rename(id, name);
      }
    });
    const withTwo = folders.find((f) => subfoldersOf(f.id).length >= 2);
    if (withTwo) {
      const [a, b] = subfoldersOf(withTwo.id);
      tree.rename(b!.id, a!.name);
      keepName.add(a!.id).add(b!.id);
    } else {
      // No folder has two subfolders: add two empty ones with one name.
      tree.addFolder(tree.rootId, 'Same name');
      tree.addFolder(tree.rootId, 'Same name');
    }
  }

  if (spec.oddNames) {
    let n = 0;
    for (const f of folders) {
      const ids = imagesIn.get(f.id)!;
      // The last image of each folder, cycling through the odd names (all of them when folders allow).
      const id = ids[ids.length - 1];
      if (id === undefined) continue;
      tree.rename(id, ODD_FILE_NAMES[n++ % ODD_FILE_NAMES.length]!);
    }
    // Folders run out before names in small trees: put the rest in the root, renaming earlier images.
    const rootImages = imagesIn.get(tree.rootId)!;
    for (let i = 0; n < ODD_FILE_NAMES.length && i < rootImages.length - 1; i++) tree.rename(rootImages[i]!, ODD_FILE_NAMES[n++]!);
    // The last folders, leaving the same-named pair alone.
    const renamable = folders.slice(1).reverse().filter((f) => !keepName.has(f.id));
    renamable.slice(0, ODD_FOLDER_NAMES.length).forEach((f, i) => tree.rename(f.id, ODD_FOLDER_NAMES[i]!));
  }

  if (spec.extras) {
    const root = tree.rootId;
    tree.addFile(root, 'notes.txt', 'text/plain', 'Not an image: the importer must skip me.\n');
    tree.addFile(root, 'report.pdf', 'application/pdf', MINIMAL_PDF);
    tree.addGoogleDoc(root, 'Meeting notes');
    tree.addImage(root, 'deleted photo.png', { trashed: true });
    const deepest = folders[folders.length - 1]!;
    // A shortcut in the root to an image deep in the tree (same id: imported once).
    const target = [...folders].reverse().map((f) => imagesIn.get(f.id)![0]).find((id) => id !== undefined);
    if (target) tree.addShortcut(root, `${tree.get(target)!.name} (shortcut)`, target);
    // A shortcut from the deepest folder back to the root: a cycle.
    tree.addShortcut(deepest.id, 'Back to the top', root);
    // An image in two folders: the root's first image also sits in the last folder (or a new one).
    const twoParents = imagesIn.get(root)![0] ?? target;
    if (twoParents) {
      const other = deepest.id !== root ? deepest.id : tree.addFolder(root, 'Also here');
      tree.addParent(twoParents, other);
    }
  }
  return tree;
}

const MINIMAL_PDF = `%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj
trailer << /Root 1 0 R >>
%%EOF
`;
