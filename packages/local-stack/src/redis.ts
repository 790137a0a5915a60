import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './ports.ts';

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface RedisHandle {
  url: string;
  /** Stops the server if we started it; no-op for one we found. */
  stop(): Promise<void>;
}

/**
 * A Redis for the demo, tests and benchmarks: REDIS_URL (or 127.0.0.1:6379) if it answers, else a
 * `redis-server` started on a free loopback port (no persistence), else a clear error.
 */
export async function findOrStartRedis(preferred = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<RedisHandle> {
  if (await answers(preferred)) return { url: preferred, stop: async () => {} };
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
  } catch {
    throw new Error(
      `No Redis answers at ${preferred} and redis-server is not installed. Install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL.`,
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(`redis-server on port ${port}`, () => answers(url), 10_000, 100);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
