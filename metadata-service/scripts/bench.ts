// Timings of the hot calls over a fresh SQLite file: npx tsx metadata-service/scripts/bench.ts
import { createJob, files, freshService, stored } from '../test/support.ts';
const svc = await freshService();
const id = await createJob(svc, 100);
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  const r = await svc.request('POST', `/jobs/${id}/files`, { files: files(i * 1000, 1000) });
  if (r.status !== 200) console.log(r.body); console.log('add 1000', r.status, (performance.now() - t).toFixed(1), 'ms', r.body.sealed_batches.length);
}
for (let b = 0; b < 10; b++) {
  const t = performance.now();
  const r = await svc.request('POST', `/batches/${id}-b${b}/results`, { job_id: id, results: files(b * 100, 100).map(stored) });
  console.log('results 100', r.status, (performance.now() - t).toFixed(1), 'ms');
}
let t = performance.now();
let r = await svc.request('POST', `/jobs/${id}/listing-complete`);
console.log('listing-complete', r.status, (performance.now() - t).toFixed(1), 'ms', r.body.unfinished_batches.length);
t = performance.now();
r = await svc.request('GET', `/jobs/${id}/status`);
console.log('status', r.status, (performance.now() - t).toFixed(1), 'ms');
await svc.close();
