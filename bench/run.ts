/**
 * `npm run bench [S0 .. S9 | baselines | million ...] [--scale 0.1] [--files N] [--logs] [--docs]`
 * A plain `npm run bench` runs S0-S6 and the baselines; the million-file scenarios S7-S9 run by name
 * (`million` = all three). `--files N` (or BENCH_S7_FILES, ...) sizes S7-S9 for a smoke run.
 * Starts what it needs on loopback (Redis with its own prefixes, s3rver and the Drive emulator as
 * child processes, the services as processes), runs the scenarios, prints a table and writes
 * bench/results/<date>.json + .svg (a partial or scaled run gets a suffix, so it never overwrites a
 * full one) and, for a full run or with --docs, docs/performance.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { relative } from 'node:path';
import { connect } from 'node:net';
import { findOrStartRedis, startS3Server, tempDir } from '@drive-import/testing';
import { rcloneVersion } from './baselines.ts';
import { round } from './measure.ts';
import { historySeries, jsonReport, markdownReport, markdownWithMillion, type Meta, svgChart, textReport } from './report.ts';
import { bigFiles, copyGroup, startUp, listing, MILLION, millionListing, oneBigFolder, quotaBound, statusUnderLoad, type Ctx, type ScenarioResult } from './scenarios.ts';
import { REPO_ROOT } from './servers.ts';

const ALL = ['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6'] as const;

function parseArgs(argv: string[]) {
  const ids = new Set<string>();
  let scale = Number(process.env.BENCH_SCALE ?? 1);
  let logs = false;
  let docs = false;
  let files: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--scale') scale = Number(argv[++i]);
    else if (a.startsWith('--scale=')) scale = Number(a.slice(8));
    else if (a === '--files') files = Number(argv[++i]);
    else if (a.startsWith('--files=')) files = Number(a.slice(8));
    else if (a === 'million') for (const id of MILLION) ids.add(id);
    else if (a === '--logs') logs = true;
    else if (a === '--docs') docs = true;
    else if (/^s[0-9]$/i.test(a)) ids.add(a.toUpperCase());
    else if (a === 'baselines') ids.add('baselines');
    else throw new Error(`unknown argument ${a}: use S0..S9, baselines, million, --scale <x>, --files <n>, --logs, --docs`);
  }
  if (!(scale > 0 && scale <= 10)) throw new Error('--scale must be a number in (0, 10]');
  if (files !== undefined && !(Number.isInteger(files) && files > 0)) throw new Error('--files must be a positive whole number');
  const full = ids.size === 0;
  if (full) for (const id of [...ALL, 'baselines']) ids.add(id);
  if (ids.has('S1')) ids.add('baselines'); // S1's targets are relative to the baselines
  return { ids, scale, logs, docs, full, files };
}

function packageVersion(name: string): string | null {
  try {
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

/** `INFO server` over a plain socket (the bench needs no Redis client of its own). */
function redisVersion(url: string): Promise<string | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port || 6379), u.hostname || '127.0.0.1');
    let text = '';
    const done = (v: string | null) => (socket.destroy(), resolve(v));
    socket.setTimeout(2000, () => done(null));
    socket.once('error', () => done(null));
    socket.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /redis_version:(\S+)/.exec(text);
      if (m || text.startsWith('-')) done(m?.[1] ?? null);
    });
    const auth = u.password ? `AUTH ${u.username ? `${decodeURIComponent(u.username)} ` : ''}${decodeURIComponent(u.password)}\r\n` : '';
    socket.write(`${auth}INFO server\r\n`);
  });
}

function cpuModel(): string {
  return cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu';
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const log = (m: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
  const started = new Date();
  const cleanups: Array<() => Promise<void>> = [];
  let stopping = false;
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  process.on('SIGINT', () => {
    if (stopping) return;
    stopping = true;
    log('interrupted: stopping everything');
    void cleanup().then(() => process.exit(130));
  });

  // The services run compiled, as in production: built once here.
  const built = spawnSync(process.execPath, [`${REPO_ROOT}scripts/build.mjs`, '--services-only'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  const redis = await findOrStartRedis();
  cleanups.push(redis.stop);
  const s3 = await startS3Server();
  cleanups.push(s3.stop);
  const dir = await tempDir('bench');
  cleanups.push(dir.cleanup);

  const meta: Meta = {
    date: started.toISOString().slice(0, 10),
    started_at: started.toISOString(),
    scale: args.scale,
    scenarios: [...args.ids],
    machine: { cores: cpus().length, cpu: cpuModel(), memory_gb: round(totalmem() / 2 ** 30, 1), load_before: loadavg().map((l) => round(l, 2)), os: `${type()} ${release()}` },
    versions: {
      node: process.version,
      rclone: rcloneVersion(),
      s3rver: packageVersion('s3rver'),
      redis: await redisVersion(redis.url),
      bullmq: packageVersion('bullmq'),
      'drive-import': (JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { version: string }).version,
    },
    concurrency: 16,
  };
  const ctx: Ctx = { scale: args.scale, redisUrl: redis.url, s3, dir: dir.path, logs: args.logs, concurrency: meta.concurrency, files: args.files, log };
  log(`scenarios ${[...args.ids].join(', ')} at scale ${args.scale}; ${meta.machine.cores} cores, load ${meta.machine.load_before.join(' ')}`);

  const results: ScenarioResult[] = [];
  const guard = async (id: string, title: string, fn: () => Promise<ScenarioResult | ScenarioResult[]>) => {
    try {
      const r = await fn();
      results.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      results.push({ id, title, rows: [], checks: [], series: [], figures: {}, notes: [], error: String(err instanceof Error ? err.message : err) });
    }
  };
  try {
    if (args.ids.has('S0')) await guard('S0', 'S0 start-up', () => startUp(ctx));
    const want = { baselines: args.ids.has('baselines'), s1: args.ids.has('S1'), s5: args.ids.has('S5'), s6: args.ids.has('S6') };
    if (want.baselines || want.s1 || want.s5 || want.s6) await guard('S1', 'S1/S5/S6 and baselines', () => copyGroup(ctx, want));
    if (args.ids.has('S2')) await guard('S2', 'S2 quota-bound', () => quotaBound(ctx));
    if (args.ids.has('S3')) await guard('S3', 'S3 big files', () => bigFiles(ctx));
    if (args.ids.has('S4')) await guard('S4', 'S4 listing', () => listing(ctx));
    if (args.ids.has('S7')) await guard('S7', 'S7 million-file listing', () => millionListing(ctx));
    if (args.ids.has('S8')) await guard('S8', 'S8 one big folder', () => oneBigFolder(ctx));
    if (args.ids.has('S9')) await guard('S9', 'S9 status and /health under load', () => statusUnderLoad(ctx));
  } finally {
    await cleanup();
  }

  meta.finished_at = new Date().toISOString();
  meta.machine.load_after = loadavg().map((l) => round(l, 2));
  const order = ['baselines', ...ALL, ...MILLION];
  results.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));

  // One file per run, never overwritten (the date and time it started): the history chart reads them all.
  const stamp = `${meta.date}T${meta.started_at.slice(11, 16).replace(':', '')}`;
  const name =
    args.full && args.scale === 1
      ? stamp
      : `${stamp}-${[...args.ids].filter((i) => i !== 'baselines').join('-') || 'baselines'}${args.scale !== 1 ? `-scale${args.scale}` : ''}${args.files ? `-files${args.files}` : ''}`;
  const resultsDir = `${REPO_ROOT}bench/results`;
  mkdirSync(resultsDir, { recursive: true });
  const jsonFile = `${resultsDir}/${name}.json`;
  const svgFile = `${resultsDir}/${name}.svg`;
  writeFileSync(jsonFile, jsonReport(meta, results));
  const series = results.flatMap((r) => r.series);
  writeFileSync(svgFile, svgChart(`drive-import bench ${meta.date}${args.scale !== 1 ? ` (scale ${args.scale})` : ''}: files/s over time`, series));
  const history = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(`${resultsDir}/${f}`, 'utf8'))];
      } catch {
        return [];
      }
    });
  writeFileSync(`${resultsDir}/history.svg`, svgChart('drive-import bench: S1 files/s, every kept run in order', historySeries(history), { x: 'run (oldest first)', y: 'files/s' }));
  console.log(`\n${textReport(meta, results)}\n`);
  console.log(`results: ${relative(process.cwd(), jsonFile)}, chart: ${relative(process.cwd(), svgFile)}`);
  if (args.full || args.docs) {
    const docsFile = `${REPO_ROOT}docs/performance.md`;
    // S1-S6 and S7-S9 are separate sections: a run of one group keeps the other's figures.
    const existing = (() => {
      try {
        return readFileSync(docsFile, 'utf8');
      } catch {
        return '';
      }
    })();
    const classic = results.filter((r) => !(MILLION as readonly string[]).includes(r.id));
    const million = results.filter((r) => (MILLION as readonly string[]).includes(r.id));
    const rel = (f: string) => relative(`${REPO_ROOT}docs`, f);
    writeFileSync(docsFile, markdownWithMillion(existing, classic.length ? markdownReport(meta, classic, rel(jsonFile), rel(svgFile)) : null, meta, million, rel(jsonFile)));
    console.log(`docs: ${relative(process.cwd(), docsFile)}`);
  }
  // Never leave a stray child: the testing helpers kill theirs on exit too.
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
