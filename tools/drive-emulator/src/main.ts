/**
 * The emulator as a process (for benchmarks and manual runs):
 *   tsx tools/drive-emulator/src/main.ts --port 5010 --files 300 --depth 2 --image-bytes 20000 --seed 1
 * Prints one JSON line when ready: {"url", "root_id", "folder_id", "folder_url", "images", ...}.
 * Stops cleanly on SIGTERM / SIGINT.
 */
import { parseArgs } from 'node:util';
import type { Faults } from './faults.ts';
import type { TreeSpec } from './generate.ts';
import { startDriveEmulator } from './index.ts';

const USAGE = `Usage: tsx tools/drive-emulator/src/main.ts [options]
Tree:   --files N (exact total of images) | --files-per-folder N   --folders N (total, root included) | --folders-per-folder N
        --depth N (levels below the root, default 2)  --image-bytes N (default 2000)  --seed N  --root-name S
        --duplicate-names  --odd-names  --extras  --name-collisions F (share of images named like a sibling, 0..1)
Server: --port N (0 = free port, default 5010)  --host H (default 127.0.0.1)
Faults: --latency-ms N  --quota-per-second N (alias --quota)  --quota-status 429|403  --max-page-size N
        --empty-page-every N  --error-rate P  --corrupt-rate P  --drop-connection-rate P
        --slow-body-bytes-per-second N  --retry-after-seconds N  --faults '<Faults JSON>' (merged last)`;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    files: { type: 'string' },
    'files-per-folder': { type: 'string' },
    folders: { type: 'string' },
    'folders-per-folder': { type: 'string' },
    depth: { type: 'string' },
    'image-bytes': { type: 'string' },
    seed: { type: 'string' },
    'root-name': { type: 'string' },
    'duplicate-names': { type: 'boolean' },
    'name-collisions': { type: 'string' },
    'odd-names': { type: 'boolean' },
    extras: { type: 'boolean' },
    'latency-ms': { type: 'string' },
    'quota-per-second': { type: 'string' },
    quota: { type: 'string' },
    'quota-status': { type: 'string' },
    'max-page-size': { type: 'string' },
    'empty-page-every': { type: 'string' },
    'error-rate': { type: 'string' },
    'corrupt-rate': { type: 'string' },
    'drop-connection-rate': { type: 'string' },
    'slow-body-bytes-per-second': { type: 'string' },
    'retry-after-seconds': { type: 'string' },
    faults: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    console.error(`--${name} must be a number\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const spec: TreeSpec = {
  seed: number('seed', values.seed) ?? 1,
  depth: number('depth', values.depth),
  files: number('files', values.files),
  filesPerFolder: number('files-per-folder', values['files-per-folder']),
  folders: number('folders', values.folders),
  foldersPerFolder: number('folders-per-folder', values['folders-per-folder']),
  imageBytes: number('image-bytes', values['image-bytes']),
  rootName: values['root-name'],
  duplicateNames: values['duplicate-names'],
  nameCollisions: number('name-collisions', values['name-collisions']),
  oddNames: values['odd-names'],
  extras: values.extras,
};

const faults: Faults = {};
const set = <K extends keyof Faults>(key: K, value: Faults[K] | undefined) => {
  if (value !== undefined) faults[key] = value;
};
set('latencyMs', number('latency-ms', values['latency-ms']));
set('quotaPerSecond', number('quota-per-second', values['quota-per-second'] ?? values.quota));
set('quotaStatus', number('quota-status', values['quota-status']) as 429 | 403 | undefined);
set('maxPageSize', number('max-page-size', values['max-page-size']));
set('emptyPageEvery', number('empty-page-every', values['empty-page-every']));
set('errorRate', number('error-rate', values['error-rate']));
set('corruptRate', number('corrupt-rate', values['corrupt-rate']));
set('dropConnectionRate', number('drop-connection-rate', values['drop-connection-rate']));
set('slowBodyBytesPerSecond', number('slow-body-bytes-per-second', values['slow-body-bytes-per-second']));
set('retryAfterSeconds', number('retry-after-seconds', values['retry-after-seconds']));
if (values.faults) Object.assign(faults, JSON.parse(values.faults) as Faults);

try {
  const emulator = await startDriveEmulator({ tree: spec, faults, port: number('port', values.port) ?? 5010, host: values.host });
  const images = emulator.tree.expectedImageCount();
  console.log(
    JSON.stringify({ url: emulator.url, root_id: emulator.rootId, folder_id: emulator.rootId, folder_url: emulator.folderUrl, images, port: emulator.port, faults }),
  );
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    emulator.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
