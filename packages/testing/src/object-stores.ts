/**
 * S3-compatible (s3rver) and Azure Blob (Azurite) servers for tests and benchmarks, each a CHILD
 * PROCESS on a free loopback port (the OS picks it; we read it back from the server's own line),
 * so a benchmark measures the client side without the server sharing its event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, generateAccountSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';

const require = createRequire(import.meta.url);

function binOf(pkg: string, bin: string, hint: string): string {
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(`${pkg} is not installed, so no ${hint} can be started. Run: npm install --save-dev ${pkg} -w packages/testing`);
  }
  const manifest = require(manifestPath) as { bin?: Record<string, string> };
  const rel = manifest.bin?.[bin];
  if (!rel) throw new Error(`${pkg} has no "${bin}" executable (found: ${Object.keys(manifest.bin ?? {}).join(', ')})`);
  return join(dirname(manifestPath), rel);
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
/** Never leave a server behind when a test process ends without calling stop(). */
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

/** Start `node [nodeArgs] script args` and wait for the line that names its port. */
async function startChild(name: string, nodeArgs: string[], script: string, args: string[], portLine: RegExp, timeoutMs = 30_000): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms. Output:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = portLine.exec(output);
      if (m) {
        clearTimeout(timer);
        // Keep draining its output so a chatty server never blocks on a full pipe.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be started: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening (code ${code}, signal ${signal}). Output:\n${output}`));
    });
  });
}

function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface S3ServerHandle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The bucket created at start, when `options.bucket` was given. */
  bucket?: string;
  createBucket(name: string): Promise<void>;
  /** A new client for this server, with the options s3rver needs (path style, checksums only when required). */
  client(): S3Client;
  stop(): Promise<void>;
}

/**
 * s3rver 3.7.1 with its own temp directory, run with --openssl-legacy-provider (it signs list
 * continuation tokens with DES and answers 500 without it). s3rver accepts any credentials.
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<S3ServerHandle> {
  const script = binOf('s3rver', 's3rver', 'S3-compatible test server');
  const dir = await mkdtemp(join(tmpdir(), 's3rver-'));
  let started: { child: ChildProcess; port: number };
  try {
    started = await startChild('s3rver', ['--openssl-legacy-provider'], script, ['-d', dir, '-a', '127.0.0.1', '-p', '0', '-s'], /S3rver listening on [\d.]+:(\d+)/);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { child, port } = started;
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const region = 'us-east-1';
  const newClient = () =>
    new S3Client({ endpoint, region, credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const createBucket = async (name: string) => {
    const client = newClient();
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  };
  const handle: S3ServerHandle = {
    endpoint,
    ...credentials,
    region,
    createBucket,
    client: newClient,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.bucket) {
    try {
      await createBucket(options.bucket);
    } catch (err) {
      await handle.stop();
      throw err;
    }
    handle.bucket = options.bucket;
  }
  return handle;
}

/** Azurite's published development account (not a secret: the same in every Azurite). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** An account SAS for Azurite's blob service (`permissions` as in 'rwdlac'), valid for an hour. */
export function azuriteAccountSas(permissions: string): string {
  return generateAccountSASQueryParameters(
    {
      permissions: AccountSASPermissions.parse(permissions),
      services: AccountSASServices.parse('b').toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      startsOn: new Date(Date.now() - 5 * 60_000),
      expiresOn: new Date(Date.now() + 3600_000),
    },
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
  ).toString();
}

export interface AzuriteHandle {
  connectionString: string;
  blobEndpoint: string;
  accountName: string;
  accountKey: string;
  stop(): Promise<void>;
}

/** Azurite's blob service, in memory, telemetry off (with it on, Azurite calls out and then ignores SIGTERM). */
export async function startAzurite(): Promise<AzuriteHandle> {
  const script = binOf('azurite', 'azurite-blob', 'Azurite blob server');
  const { child, port } = await startChild(
    'azurite-blob',
    [],
    script,
    ['--silent', '--inMemoryPersistence', '--disableTelemetry', '--blobHost', '127.0.0.1', '--blobPort', '0', '--skipApiVersionCheck'],
    /successfully listens on http:\/\/[\d.]+:(\d+)/,
  );
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`,
    stop: () => stopChild(child),
  };
}
