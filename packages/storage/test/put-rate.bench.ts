/**
 * Put rate and CPU per put for small objects: `node --import tsx packages/storage/test/put-rate.bench.ts [files] [bytes] [concurrency] [provider]`
 * (defaults 2000 x 100 KB at 16, s3 against s3rver in a child process). Not a test: prints files/s
 * and this process's CPU per put; for s3, also the AWS SDK's own PutObject of the same bodies (the
 * baseline the driver's lean PUT is measured against, s3-put.ts).
 */
import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startStore } from './stores.ts';
import { S3Driver, type StorageProvider } from '../src/index.ts';

const [files = 2000, bytes = 100_000, concurrency = 16] = process.argv.slice(2, 5).map(Number);
const provider = (process.argv[5] ?? 's3') as StorageProvider;

const h = await startStore(provider);
try {
  const data = randomBytes(bytes);
  const md5 = createHash('md5').update(data).digest('hex');
  const contentMd5 = createHash('md5').update(data).digest('base64');
  const key = (i: number) => `drive-import/bench/${i % 100}/file-${i}.jpg`;
  const body = () => Readable.from([data], { objectMode: false });
  const measure = async (label: string, putOne: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await putOne(-1 - i); // warm up connections and the JIT
    let next = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < files) await putOne(next++);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000 / files;
    console.log(JSON.stringify({ label, provider, files, bytes, concurrency, seconds: +seconds.toFixed(2), files_per_second: Math.round(files / seconds), cpu_ms_per_put: +cpuMs.toFixed(3) }));
  };
  await measure('driver.put', (i) => h.driver.put({ key: key(i), body: body(), size: bytes, md5, contentType: 'image/jpeg' }));
  if (h.driver instanceof S3Driver) {
    const { client, bucket } = h.driver;
    await measure('SDK PutObject (no md5 check)', (i) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key(i), Body: body(), ContentLength: bytes, ContentMD5: contentMd5, ContentType: 'image/jpeg' })),
    );
  }
} finally {
  await h.stop();
}
