/**
 * Put rate for small objects: `node --import tsx packages/storage/test/put-rate.bench.ts [files] [bytes] [concurrency] [provider]`
 * (defaults 2000 x 100 KB at 16, s3 against s3rver in a child process). Not a test: prints files/s.
 */
import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { startStore } from './stores.ts';
import type { StorageProvider } from '../src/index.ts';

const [files = 2000, bytes = 100_000, concurrency = 16] = process.argv.slice(2, 5).map(Number);
const provider = (process.argv[5] ?? 's3') as StorageProvider;

const h = await startStore(provider);
try {
  const data = randomBytes(bytes);
  const md5 = createHash('md5').update(data).digest('hex');
  const putOne = (i: number) =>
    h.driver.put({ key: `drive-import/bench/${i % 100}/file-${i}.jpg`, body: Readable.from([data], { objectMode: false }), size: bytes, md5, contentType: 'image/jpeg' });
  for (let i = 0; i < 50; i++) await putOne(-1 - i); // warm up connections and the JIT
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files) await putOne(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ provider, files, bytes, concurrency, seconds: +seconds.toFixed(2), files_per_second: Math.round(files / seconds) }));
} finally {
  await h.stop();
}
