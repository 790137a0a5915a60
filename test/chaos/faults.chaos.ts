/**
 * `npm run test:chaos`: the fault suite at full size (CHAOS_FILES, default 5,000 files; 20,000 for
 * the listing fault), one import per fault, each audited for exactly-once (see support.ts). Writes
 * test/chaos/results/full-*.json per row and docs/reliability.md with the table of this run.
 * CHAOS_ONLY=<word> runs only the rows whose name holds it (the doc then keeps the other rows'
 * last results from test/chaos/results/).
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { diskFull, driveFaults, importServiceKill, metadataKill, mountSmallTmpfs, redisRestart, gatewayStreams, storeFaults, workerKills } from './cases.ts';
import { type ChaosCase, notRun, RESULTS_DIR, type Row, runChaos, saveRow, table } from './support.ts';

const only = process.env.CHAOS_ONLY;
const NOTES = '<!-- notes: kept by npm run test:chaos -->';
const pick = (name: string) => !only || name.toLowerCase().includes(only.toLowerCase());

async function row(t: { diagnostic(msg: string): void }, c: ChaosCase) {
  const r = await runChaos(c);
  await saveRow(r);
  t.diagnostic(table([r]));
  assert.deepEqual(r.problems, [], `${c.fault}:\n${r.problems.join('\n')}`);
}

for (const make of [workerKills, redisRestart, metadataKill, importServiceKill, driveFaults, storeFaults, gatewayStreams]) {
  const c = make('full');
  test(`chaos: ${c.fault}`, { skip: !pick(c.fault), timeout: 900_000 }, (t) => row(t, c));
}

test('chaos: local store on a full disk', { skip: !pick('disk'), timeout: 900_000 }, async (t) => {
  const m = mountSmallTmpfs();
  if ('skip' in m) {
    await saveRow(notRun('local store on a 2 MB tmpfs: the disk fills up', 'full', Number(process.env.CHAOS_FILES ?? 5000), m.skip));
    t.skip(m.skip);
    return;
  }
  try {
    await row(t, diskFull('full', m.dir));
  } finally {
    m.unmount();
  }
});


after(async () => {
  const rows: Row[] = [];
  for (const f of (await readdir(RESULTS_DIR)).filter((n) => n.startsWith('full-') && n.endsWith('.json')).sort()) {
    rows.push(JSON.parse(await readFile(join(RESULTS_DIR, f), 'utf8')) as Row & { at: string });
  }
  const doc = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));
  const at = (r: Row) => (r as Row & { at?: string }).at?.slice(0, 16).replace('T', ' ') ?? '';
  // What follows NOTES in the existing file is written by hand (defects found, fixes): kept.
  const existing = await readFile(doc, 'utf8').catch(() => '');
  const notes = existing.includes(NOTES) ? existing.slice(existing.indexOf(NOTES)) : `${NOTES}\n`;
  await writeFile(
    doc,
    `# Reliability: the fault suite\n\nWritten by \`npm run test:chaos\` (test/chaos/faults.chaos.ts) from the rows in test/chaos/results/full-*.json.\nEach row is one import into s3rver (the local store for the full disk) with the fault injected, then an audit:\nthe job's status, every Drive file once in the catalog and once in the store with Drive's md5, no orphan object,\nno row without its object, counters equal to the rows. *duplicated* = extra rows for one Drive file + objects no\nrow points at; *lost* = Drive files neither stored with the right bytes nor failed for the fault's accepted reason.\nA row marked **DEFECT** failed its audit.\n\n${table(rows)}\n\nRun at: ${rows.filter((r) => at(r)).map((r) => `${r.fault.split(':')[0]} ${at(r)}`).join('; ')}.\n\n${notes}`,
  );
});
