/**
 * The fault suite at a small size (a few hundred files, shorter outages, fewer kills), so `npm test`
 * runs it; `npm run test:chaos` runs the same faults at full size (faults.chaos.ts). Each row: one
 * import to s3rver (the local store for the full disk) with the fault injected, then the
 * exactly-once audit (see support.ts). Rows go to test/chaos/results/small-*.json.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diskFull, driveFaults, importServiceKill, metadataKill, mountSmallTmpfs, redisRestart, gatewayStreams, storeFaults, workerKills } from './cases.ts';
import { type ChaosCase, notRun, runChaos, saveRow, table } from './support.ts';

async function row(t: { diagnostic(msg: string): void }, c: ChaosCase) {
  const r = await runChaos(c);
  await saveRow(r);
  t.diagnostic(table([r]));
  assert.deepEqual(r.problems, [], `${c.fault}:\n${r.problems.join('\n')}`);
}

const only = process.env.CHAOS_ONLY; // e.g. CHAOS_ONLY=redis runs the rows whose name has it
const pick = (name: string) => !only || name.toLowerCase().includes(only.toLowerCase());

for (const make of [workerKills, redisRestart, metadataKill, importServiceKill, driveFaults, storeFaults, gatewayStreams]) {
  const c = make('small');
  test(`chaos (small): ${c.fault}`, { skip: !pick(c.fault), timeout: 180_000 }, (t) => row(t, c));
}

test('chaos (small): local store on a full disk', { skip: !pick('disk'), timeout: 180_000 }, async (t) => {
  const m = mountSmallTmpfs();
  if ('skip' in m) {
    await saveRow(notRun('local store on a 2 MB tmpfs: the disk fills up', 'small', 300, m.skip));
    t.skip(m.skip);
    return;
  }
  try {
    await row(t, diskFull('small', m.dir));
  } finally {
    m.unmount();
  }
});

