// Timings of the hot calls over a fresh SQLite file: npx tsx metadata-service/scripts/bench.ts [chunks]
// Prints each call's time and the event loop's longest block (what a status poll waits behind).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createJob, files, freshService, stored } from '../test/support.ts';

const chunks = Number(process.argv[2] ?? 50);
const svc = await freshService();
const id = await createJob(svc, 100);
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const addTimes: number[] = [];
for (let i = 0; i < chunks; i++) {
  const t = performance.now();
  const r = await svc.request('POST', `/jobs/${id}/files`, { files: files(i * 1000, 1000) });
  if (r.status !== 200) console.log(r.body);
  addTimes.push(performance.now() - t);
}
addTimes.sort((a, b) => a - b);
console.log(`add 1000 x ${chunks}: median ${addTimes[addTimes.length >> 1]!.toFixed(1)} ms, max ${addTimes[addTimes.length - 1]!.toFixed(1)} ms`);
for (let b = 0; b < 10; b++) {
  const t = performance.now();
  await svc.request('GET', `/batches/${id}-b${b}`);
  const g = performance.now() - t;
  const r = await svc.request('POST', `/batches/${id}-b${b}/results`, { job_id: id, results: files(b * 100, 100).map(stored) });
  if (b === 9) console.log('get batch', g.toFixed(1), 'ms; results 100', r.status, (performance.now() - t - g).toFixed(1), 'ms');
}
let t = performance.now();
const r = await svc.request('POST', `/jobs/${id}/listing-complete`);
console.log('listing-complete', r.status, (performance.now() - t).toFixed(1), 'ms');
t = performance.now();
for (let i = 0; i < 100; i++) await svc.request('GET', `/jobs/${id}/status`);
console.log('status (mean of 100)', ((performance.now() - t) / 100).toFixed(2), 'ms');
t = performance.now();
await svc.request('GET', `/jobs/${id}/files?status=failed&per_page=50`);
console.log('files?status=failed first page', (performance.now() - t).toFixed(1), 'ms');
loop.disable();
console.log(`event loop: max block ${(loop.max / 1e6).toFixed(0)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms`);
await svc.close();
const mem = process.memoryUsage();
console.log(`memory: rss ${Math.round(mem.rss / 1e6)} MB, heap used ${Math.round(mem.heapUsed / 1e6)} MB of ${Math.round(mem.heapTotal / 1e6)} MB, external ${Math.round(mem.external / 1e6)} MB`);
