/**
 * The references our pipeline is held to, measured in the same run against the same servers:
 *   - the bare copy loop: fetch each file from the emulator, PutObject it, N at a time; no queue, no DB;
 *   - rclone: `rclone copy <local dir> <s3 bucket> --transfers N`, the reference bulk copier.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3ServerHandle } from '@drive-import/testing';
import { type BoxCpu, boxCpuMeter, counterTimeline, type Point, rateSeries } from './measure.ts';

export interface DriveFile {
  id: string;
  name: string;
  size: number;
}

export interface BaselineResult {
  files: number;
  seconds: number;
  fps: number;
  timeline: Point[];
  note?: string;
  /** CPU the copier itself used per file (ms): the bench process for the loop, rclone's process for rclone. */
  cpuMsPerFile?: number;
  /** The whole machine's CPU per file and busy cores during the run. */
  box?: BoxCpu;
}

const FOLDER = 'application/vnd.google-apps.folder';

/** Every image under the root, listed with plain Drive v3 HTTP calls (not timed). */
export async function listDriveFiles(emulatorUrl: string, rootId: string): Promise<DriveFile[]> {
  const files: DriveFile[] = [];
  const folders = [rootId];
  while (folders.length) {
    const folder = folders.pop()!;
    let pageToken: string | undefined;
    do {
      const q = new URLSearchParams({
        q: `'${folder}' in parents and trashed = false`,
        pageSize: '1000',
        fields: 'nextPageToken, files(id, name, mimeType, size)',
        key: 'bench',
        supportsAllDrives: 'true',
        includeItemsFromAllDrives: 'true',
      });
      if (pageToken) q.set('pageToken', pageToken);
      const res = await fetch(`${emulatorUrl}/drive/v3/files?${q}`);
      if (!res.ok) throw new Error(`listing ${folder}: ${res.status} ${await res.text()}`);
      const page = (await res.json()) as { nextPageToken?: string; files: Array<{ id: string; name: string; mimeType: string; size?: string }> };
      for (const f of page.files) {
        if (f.mimeType === FOLDER) folders.push(f.id);
        else if (f.mimeType.startsWith('image/')) files.push({ id: f.id, name: f.name, size: Number(f.size ?? 0) });
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
  }
  return files;
}

/** Run `fn` over `items`, `n` at a time. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, run));
}

const mediaUrl = (emulatorUrl: string, id: string) => `${emulatorUrl}/drive/v3/files/${id}?alt=media&key=bench`;

async function download(emulatorUrl: string, id: string): Promise<Buffer> {
  const res = await fetch(mediaUrl(emulatorUrl, id));
  if (!res.ok) throw new Error(`download ${id}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Objects in a bucket (count and bytes). */
export async function bucketUsage(s3: S3ServerHandle, bucket: string): Promise<{ objects: number; bytes: number; newest: number }> {
  const client = s3.client();
  let objects = 0;
  let bytes = 0;
  let newest = 0;
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        objects++;
        bytes += o.Size ?? 0;
        newest = Math.max(newest, o.LastModified?.getTime() ?? 0);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return { objects, bytes, newest };
}

/** The fastest plain script: GET from the emulator, PutObject to the S3 server, `concurrency` at a time. */
export async function bareCopyLoop(emulatorUrl: string, files: DriveFile[], s3: S3ServerHandle, bucket: string, concurrency: number): Promise<BaselineResult> {
  await s3.createBucket(bucket);
  const client = s3.client();
  const counter = counterTimeline();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const box = boxCpuMeter();
  try {
    await pool(files, concurrency, async (f) => {
      const body = await download(emulatorUrl, f.id);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `bare/${f.id}/${f.name}`, Body: body, ContentLength: body.length }));
      counter.inc();
    });
  } finally {
    client.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { files: files.length, seconds, fps: files.length / seconds, timeline: rateSeries(counter.stop()), cpuMsPerFile: (cpu.user + cpu.system) / 1000 / files.length, box: box(files.length) };
}

/** Write the emulator's images to a local directory (rclone's source). Not timed. */
export async function writeLocalCopy(emulatorUrl: string, files: DriveFile[], dir: string, concurrency: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await pool(files, concurrency, async (f) => writeFile(join(dir, `${f.id}-${f.name.replace(/[/\\]/g, '_')}`), await download(emulatorUrl, f.id)));
}

export function rcloneVersion(): string | null {
  try {
    return execFileSync('rclone', ['version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^rclone\s+/, '').trim();
  } catch {
    return null;
  }
}

/** Make sure rclone is there: install Debian's when we are root and it is missing. */
export function ensureRclone(log: (m: string) => void): string | null {
  const have = rcloneVersion();
  if (have || process.getuid?.() !== 0) return have;
  log('rclone is missing: apt-get install -y rclone');
  try {
    execFileSync('apt-get', ['install', '-y', 'rclone'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    return null;
  }
  return rcloneVersion();
}

/** `rclone copy dir bench:bucket --transfers N`, timed; files over time from its JSON stats lines. */
export async function rcloneCopy(dir: string, files: number, s3: S3ServerHandle, bucket: string, transfers: number): Promise<BaselineResult> {
  await s3.createBucket(bucket);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: s3.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: s3.secretAccessKey,
    RCLONE_CONFIG_BENCH_REGION: s3.region,
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  delete env.AWS_CA_BUNDLE; // set on these machines; rclone then fails with LoadCustomCABundleError
  const args = ['copy', dir, `bench:${bucket}`, '--transfers', String(transfers), '--stats', '250ms', '--stats-log-level', 'NOTICE', '--use-json-log'];
  const started = performance.now();
  const box = boxCpuMeter();
  const samples: Array<{ t: number; done: number }> = [{ t: 0, done: 0 }];
  let stderr = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('rclone', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (c: Buffer) => {
      const text = c.toString();
      stderr = (stderr + text).slice(-20_000);
      for (const line of text.split('\n')) {
        const transfers = /"transfers":(\d+)/.exec(line);
        if (transfers) samples.push({ t: (performance.now() - started) / 1000, done: Number(transfers[1]) });
      }
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`rclone exited with ${code}: ${stderr.slice(-1500)}`);
  samples.push({ t: seconds, done: files });
  return { files, seconds, fps: files / seconds, timeline: rateSeries(samples), box: box(files) };
}
