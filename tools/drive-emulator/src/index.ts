/**
 * @drive-import/drive-emulator: a Drive v3 HTTP emulator for tests, the demo and the benchmarks.
 *
 *   const emulator = await startDriveEmulator({ tree: { files: 2500, depth: 3, seed: 1 } });
 *   const drive = createDriveClient({ rootUrl: emulator.url, apiKey: 'emulator' });
 *   ...
 *   await emulator.close();
 */
import type { AddressInfo } from 'node:net';
import type { Faults } from './faults.ts';
import { generateTree, type TreeSpec } from './generate.ts';
import { createEmulatorServer } from './server.ts';
import type { EmulatorStats } from './stats.ts';
import { DriveTree } from './tree.ts';

export { DriveTree, FOLDER_MIME, GOOGLE_DOC_MIME, SHORTCUT_MIME } from './tree.ts';
export type { AddOptions, DriveImageMetadata, DriveItem, ExpectedImage, ListEntry, TreeOptions } from './tree.ts';
export { generateTree } from './generate.ts';
export type { TreeSpec } from './generate.ts';
export { validateFaults } from './faults.ts';
export type { DriveKind, Faults } from './faults.ts';
export { maxInWindow } from './stats.ts';
export type { EmulatorStats, RequestKind } from './stats.ts';
export { driveError } from './errors.ts';
export type { DriveErrorBody } from './errors.ts';
export { PngFactory } from './images.ts';

export interface StartOptions {
  tree: DriveTree | TreeSpec;
  faults?: Faults;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

export interface DriveEmulator {
  /** e.g. http://127.0.0.1:PORT/ — pass as the Drive client's rootUrl. */
  url: string;
  port: number;
  tree: DriveTree;
  rootId: string;
  /** https://drive.google.com/drive/folders/<rootId> */
  folderUrl: string;
  /** Replace the faults in force (and restart their counters). */
  setFaults(faults: Faults): void;
  stats(): EmulatorStats;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startDriveEmulator(options: StartOptions): Promise<DriveEmulator> {
  const tree = options.tree instanceof DriveTree ? options.tree : generateTree(options.tree);
  const { server, faults, stats } = createEmulatorServer(tree, options.faults ?? {});
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}/`,
    port,
    tree,
    rootId: tree.rootId,
    folderUrl: `https://drive.google.com/drive/folders/${tree.rootId}`,
    setFaults: (f) => faults.set(f),
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
