/** The outputs: a console table, bench/results/<name>.json, an SVG chart and docs/performance.md. */
import type { Point } from './measure.ts';
import { round } from './measure.ts';
import type { ScenarioResult } from './scenarios.ts';

export interface Meta {
  date: string;
  started_at: string;
  finished_at?: string;
  scale: number;
  scenarios: string[];
  machine: { cores: number; cpu: string; memory_gb: number; load_before: number[]; load_after?: number[]; os: string };
  versions: Record<string, string | null>;
  concurrency: number;
}

const cell = (v: number | null, digits = 1) => (v === null || !Number.isFinite(v) ? '–' : String(round(v, digits)));
const verdict = (pass: boolean | null) => (pass === null ? 'n/a' : pass ? 'MET' : 'MISSED');

/** A plain-text table; `right` are the indexes of number columns. */
function table(headers: string[], rows: string[][], right: number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const tableIfAny = (headers: string[], rows: string[][]) => (rows.length ? [table(headers, rows)] : ['(no targets in the scenarios run)']);

export function textReport(meta: Meta, results: ScenarioResult[]): string {
  const m = meta.machine;
  const out: string[] = [
    `drive-import benchmark ${meta.started_at}${meta.scale !== 1 ? `   SCALE ${meta.scale} (sizes and time targets scaled; not comparable with a full run)` : ''}`,
    `machine: ${m.cores} cores (${m.cpu}), ${m.memory_gb} GB memory, ${m.os}, load average before ${m.load_before.join(' ')}${m.load_after ? `, after ${m.load_after.join(' ')}` : ''}`,
    `versions: ${Object.entries(meta.versions)
      .map(([k, v]) => `${k} ${v ?? 'n/a'}`)
      .join(', ')}`,
    '',
    table(
      ['run', 'files', 'seconds', 'files/s', 'detail'],
      results.flatMap((r) => r.rows.map((row) => [row.label, row.files === null ? '–' : String(row.files), cell(row.seconds), cell(row.fps), row.detail])),
      [1, 2, 3],
    ),
    '',
    ...tableIfAny(
      ['scenario', 'target', 'measured', 'result'],
      results.flatMap((r) => [
        ...r.checks.map((c) => [`${r.id} ${c.what}`, c.target, c.actual, verdict(c.pass)]),
        ...(r.error ? [[`${r.id}`, 'runs', `ERROR: ${r.error.split('\n')[0]!.slice(0, 200)}`, 'MISSED']] : []),
      ]),
    ),
  ];
  const notes = results.flatMap((r) => r.notes.map((n) => `${r.id}: ${n}`));
  if (notes.length) out.push('', 'notes:', ...notes.map((n) => `  - ${n}`));
  const missed = results.flatMap((r) => [...r.checks.filter((c) => c.pass === false).map((c) => `${r.id} ${c.what}`), ...(r.error ? [`${r.id} did not run to the end`] : [])]);
  out.push('', missed.length ? `TARGETS MISSED: ${missed.join('; ')}` : 'all targets met');
  return out.join('\n');
}

export function jsonReport(meta: Meta, results: ScenarioResult[]): string {
  // One line per chart point keeps the file small and readable.
  const text = JSON.stringify({ meta, results }, null, 1).replace(/\{\s*"t": ([-\d.e]+),\s*"fps": ([-\d.e]+)\s*\}/g, '{"t": $1, "fps": $2}');
  return `${text}\n`;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** files/s over time, one line per series, drawn by hand. */
export function svgChart(
  title: string,
  series: Array<{ label: string; points: Point[] }>,
  axes = { x: 'seconds since start (POST, or start of the loop)', y: 'files/s (3 s window)' },
): string {
  const W = 960;
  const H = 480;
  const pad = { l: 60, r: 220, t: 40, b: 50 };
  const all = series.flatMap((s) => s.points);
  const maxT = niceCeil(Math.max(1, ...all.map((p) => p.t)));
  const maxY = niceCeil(Math.max(1, ...all.map((p) => p.fps)));
  const x = (t: number) => pad.l + (t / maxT) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / maxY) * (H - pad.t - pad.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad.l}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (maxY / 5) * i;
    const t = (maxT / 5) * i;
    parts.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${round(v, 0)}</text>`);
    parts.push(`<text x="${x(t)}" y="${H - pad.b + 16}" text-anchor="middle">${round(t, 0)}</text>`);
  }
  parts.push(`<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${H - pad.b}" stroke="#333"/>`);
  parts.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="#333"/>`);
  parts.push(`<text x="${(pad.l + W - pad.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(axes.x)}</text>`);
  parts.push(`<text transform="translate(16 ${(pad.t + H - pad.b) / 2}) rotate(-90)" text-anchor="middle">${esc(axes.y)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.map((p) => `${round(x(p.t), 1)},${round(y(p.fps), 1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts}"/>`);
    const ly = pad.t + 8 + i * 18;
    parts.push(`<line x1="${W - pad.r + 12}" x2="${W - pad.r + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${W - pad.r + 38}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** docs/performance.md: the table and the chart of one run, ready to link from the README. */
export function markdownReport(meta: Meta, results: ScenarioResult[], jsonPath: string, svgPath: string): string {
  const m = meta.machine;
  const rows = results.flatMap((r) => r.rows);
  const checks = results.flatMap((r) => [
    ...r.checks.map((c) => `| ${r.id} | ${c.what} | ${c.target} | ${c.actual} | ${verdict(c.pass)} |`),
    ...(r.error ? [`| ${r.id} | runs to the end | – | error: ${r.error.split('\n')[0]!.slice(0, 160).replace(/\|/g, '/')} | MISSED |`] : []),
  ]);
  return [
    '# Performance',
    '',
    `Measured by \`npm run bench\` on ${meta.date}${meta.scale !== 1 ? ` at scale ${meta.scale} (sizes and time targets scaled)` : ''}: ${m.cores} cores (${m.cpu}), ${m.memory_gb} GB, ${m.os};`,
    `${Object.entries(meta.versions)
      .map(([k, v]) => `${k} ${v ?? 'n/a'}`)
      .join(', ')}. Everything on loopback: the Drive emulator and s3rver as child processes, the`,
    'services as processes, Redis, SQLite. Every figure below comes from that one run',
    `([raw results](${jsonPath})). s3rver, a single Node process writing files to disk, is the ceiling`,
    'here: the bare copy loop (fetch from the emulator, PutObject, no queue, no database) shows it.',
    '',
    '| run | files | seconds | files/s | detail |',
    '|---|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.label} | ${r.files ?? '–'} | ${cell(r.seconds)} | ${cell(r.fps)} | ${r.detail.replace(/\|/g, '/')} |`),
    '',
    '| scenario | what | target | measured | result |',
    '|---|---|---|---|---|',
    ...checks,
    '',
    `![files/s over time](${svgPath})`,
    '',
    ...results.flatMap((r) => r.notes.map((n) => `- ${r.id}: ${n}`)),
    '',
    'Run it yourself: `npm run bench` (all scenarios, about 20 minutes), `npm run bench S1` (under 5 minutes),',
    '`npm run bench -- S2 S4 --scale 0.1` for a quick check of the harness.',
    '',
  ].join('\n');
}

const MILLION_START = '<!-- S7-S9: million-file imports (written by bench/report.ts markdownWithMillion) -->';
const MILLION_END = '<!-- /S7-S9 -->';

/** S7-S9 and their targets, as in the issue "Million-file imports" (what the section shows before a full-size run). */
const MILLION_TARGETS: Array<[string, string, string]> = [
  ['S7', 'listing complete (POST -> listing_complete)', '<= 300 s'],
  ['S7', 'import-service peak RSS', '<= 300 MB'],
  ['S7', 'metadata-service peak RSS', '<= 400 MB'],
  ['S7', 'Redis used_memory growth', '<= 150 MB'],
  ['S7', 'status route during listing, p99 (every 100 ms)', '<= 25 ms'],
  ['S7', 'files?status=failed page 1 after listing', '<= 50 ms'],
  ['S8', 'listing complete (POST -> listing_complete)', '<= 90 s'],
  ['S8', 'every storage_key unique (SQLite, this job)', '200000 rows, 200000 distinct'],
  ['S8', 'event loop never blocked (max delay, every service, during the listing)', '< 200 ms'],
  ['S9', 'status route throughput (100 connections, 10 s)', '>= 1000 req/s'],
  ['S9', 'status route p99', '<= 100 ms'],
  ['S9', '/health under the same load: every answer 200', '0 non-2xx, 0 errors'],
];

function millionSection(meta: Meta, results: ScenarioResult[], jsonPath: string | null): string {
  const measured = results.length > 0 && jsonPath !== null;
  const rows = measured
    ? results.flatMap((r) => [
        ...r.checks.map((c) => `| ${r.id} | ${c.what} | ${c.target} | ${c.actual.replace(/\|/g, '/')} | ${verdict(c.pass)} |`),
        ...(r.error ? [`| ${r.id} | runs to the end | – | error: ${r.error.split('\n')[0]!.slice(0, 160).replace(/\|/g, '/')} | MISSED |`] : []),
      ])
    : MILLION_TARGETS.map(([id, what, target]) => `| ${id} | ${what} | ${target} | pending | pending |`);
  return [
    MILLION_START,
    '## Million-file imports (S7-S9)',
    '',
    'From the issue "Million-file imports". `npm run bench million` runs all three (or `S7`, `S8`, `S9` by name; a plain',
    '`npm run bench` does not). `--files 20000` (or `BENCH_S7_FILES`, `BENCH_S8_FILES`, `BENCH_S9_FILES`) runs a smaller',
    'smoke version: time targets scale with the size, memory and latency targets do not, and its figures never land here.',
    '',
    '- **S7 listing a million files**: 1,000,000 images (2 KB) in 2,000 folders of 500, listing only (no worker process,',
    '  nothing is copied), with a Redis of its own. Measured: POST -> `listing_complete: true` in the status; peak RSS',
    '  (VmHWM) of the import-service and metadata-service processes; Redis `used_memory` before/after; the status route',
    '  through the gateway polled once per 100 ms during the listing (p50/p99); then page 1 of',
    '  `GET /api/import/jobs/:id/files?status=failed` (median of 5, the cold one shown too).',
    '- **S8 one folder of 200,000**: a third of them named like a sibling (verbatim, lower-cased, or with `.PNG`),',
    '  listing only. Measured: POST -> `listing_complete`; `COUNT(*)` and `COUNT(DISTINCT storage_key)` of the job in the',
    "  metadata-service's SQLite file (read-only); every service's event-loop max delay over the listing (prom-client's",
    '  `nodejs_eventloop_lag_max_seconds`, scraped just before the POST and after; the never-reset',
    '  `drive_import_eventloop_delay_max_seconds` is in the results file).',
    '- **S9 status and /health under load**: after a finished 2,000-file import (worker running, s3rver store),',
    '  autocannon with 100 connections for 10 s on `GET /api/import/status/:id`, then on the gateway\'s `/health`.',
    '  Baseline: the same load on a bare `node:http` server in its own process (the load generator\'s ceiling on this box).',
    '',
    measured
      ? `Measured on ${meta.date}: ${meta.machine.cores} cores (${meta.machine.cpu}), ${meta.machine.memory_gb} GB ([raw results](${jsonPath})).`
      : 'Not measured yet at full size: figures are pending (the listing and batch paths are being rewritten).',
    '',
    '| scenario | what | target | measured | result |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...(measured ? results.flatMap((r) => r.notes.map((n) => `- ${r.id}: ${n}`)) : []),
    MILLION_END,
    '',
  ].join('\n');
}

/**
 * docs/performance.md = the S1-S6 report, then the S7-S9 section. A run of one group keeps the other
 * group's part of the existing file; S7-S9 figures are written only from a full-size run (no result
 * `resized` by --scale, --files or BENCH_<ID>_FILES), else the existing section (or a 'pending' one) stays.
 * What follows the section in the existing file stays after it.
 */
export function markdownWithMillion(existing: string, classic: string | null, meta: Meta, million: ScenarioResult[], jsonPath: string): string {
  const start = existing.indexOf(MILLION_START);
  const end = existing.indexOf(MILLION_END);
  const hasSection = start >= 0 && end > start;
  const oldHead = hasSection ? existing.slice(0, start) : existing;
  const oldSection = hasSection ? `${existing.slice(start, end + MILLION_END.length)}\n` : null;
  // What follows the section (notes written by hand) is kept as it is.
  const tail = hasSection ? existing.slice(end + MILLION_END.length).replace(/^\n+/, '') : '';
  const head = (classic ?? oldHead).replace(/\n*$/, '\n\n');
  const fullSize = million.length > 0 && meta.scale === 1 && million.every((r) => !r.resized);
  const section = fullSize ? millionSection(meta, million, jsonPath) : (oldSection ?? millionSection(meta, [], null));
  return head + section + (tail ? `\n${tail}` : '');
}

/**
 * Every kept run's S1 figures in time order (the JSON files in bench/results), as chart series:
 * the pipeline's and the bare loop's files/s, so a regression of either shows as a dip.
 */
export function historySeries(reports: Array<{ meta?: { started_at?: string }; results?: Array<{ id: string; figures?: Record<string, unknown> }> }>) {
  const runs = reports
    .map((r) => {
      const s1 = r.results?.find((x) => x.id === 'S1')?.figures;
      const bare = (r.results?.find((x) => x.id === 'baselines')?.figures?.bare ?? null) as { fps?: number } | null;
      return { at: r.meta?.started_at ?? '', fps: typeof s1?.fps === 'number' ? s1.fps : null, bare: bare?.fps ?? null };
    })
    .filter((r) => r.fps !== null)
    .sort((a, b) => a.at.localeCompare(b.at));
  return [
    { label: 'S1 pipeline files/s', points: runs.map((r, i) => ({ t: i + 1, fps: r.fps! })) },
    { label: 'bare copy loop files/s', points: runs.flatMap((r, i) => (r.bare === null ? [] : [{ t: i + 1, fps: r.bare }])) },
  ];
}
