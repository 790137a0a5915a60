/** The import-service's /metrics: queue depths read from Redis at scrape time, Drive requests and rate-limit answers. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor, metricSeries as series } from '@drive-import/testing';
import { startImportService } from '../src/index.ts';
import { importFolder, internalAuth, startParts, testLog, waitListed, type Parts } from './support.ts';

let parts: Parts;
before(async () => {
  // Two listing pages answered "rate limited" first (Drive's 403 userRateLimitExceeded): retried, counted.
  parts = await startParts({ files: 250, depth: 1, seed: 31, imageBytes: 200 }, { failNext: { count: 2, status: 403, reason: 'userRateLimitExceeded', kind: 'list' } });
});
after(() => parts.close());


test('queue depths, Drive requests and rate-limit answers, and request durations by route', async () => {
  const service = await startImportService(parts.config(), { port: 0, log: testLog });
  try {
    const scrape = async () => (await fetch(`${service.url}/metrics`, { headers: internalAuth })).text();
    const depth = (text: string, queue: string, state: string) =>
      series(text, 'drive_import_queue_jobs').find(([l]) => l.queue === queue && l.state === state)?.[1];

    let text = await scrape();
    for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed']) {
      assert.equal(depth(text, 'copy', state), 0, `copy ${state}`);
      assert.equal(depth(text, 'listing', state), 0, `listing ${state}`);
    }

    const accepted = await importFolder(service.url, parts.emulator.folderUrl);
    const job = await waitListed(parts, accepted.job_id);
    assert.equal(job.total, parts.emulator.tree.expectedImages().length);
    // Nobody consumes the copy queue here: every batch is waiting, as Redis says.
    const batches = await parts.copyQueue.getWaitingCount();
    assert.ok(batches >= 3);
    text = await waitFor('the listing job to show as completed', async () => {
      const t = await scrape();
      return depth(t, 'listing', 'completed') === 1 ? t : null;
    });
    assert.equal(depth(text, 'copy', 'waiting'), batches);
    assert.equal(depth(text, 'listing', 'active'), 0);

    const requests = series(text, 'drive_import_import_service_drive_requests_total');
    const sent = (method: string) => requests.find(([l]) => l.method === method)?.[1] ?? 0;
    const stats = parts.emulator.stats();
    assert.ok(sent('get') >= 1, 'the folder check');
    assert.equal(sent('list'), stats.byKind.list, 'every list request the emulator answered was counted once');
    assert.equal(sent('get'), stats.byKind.get);
    assert.equal(stats.rateLimited, 2);
    const limited = series(text, 'drive_import_import_service_drive_rate_limited_total');
    assert.deepEqual(limited, [[{ reason: 'userRateLimitExceeded' }, 2]]);

    const posts = series(text, 'drive_import_http_request_duration_seconds_count').find(
      ([l]) => l.service === 'import-service' && l.method === 'POST' && l.route === '/imports' && l.status === '202',
    );
    assert.equal(posts?.[1], 1);
  } finally {
    await service.close();
  }
});
