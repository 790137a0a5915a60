/**
 * Sampling: the status route every few hundred ms (files over time), process memory from /proc,
 * and the derived rates. Times are seconds since the POST (or since a baseline started).
 */
import { BENCH_HEADERS } from './auth.ts';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { connect } from 'node:net';
import { TERMINAL_JOB_STATUSES, type JobStatusResponse } from '@drive-import/common';
import type { Accepted } from './servers.ts';

export interface Sample {
  t: number;
  done: number;
  failed: number;
  total: number;
  listing: boolean;
  status: string;
}

export interface Point {
  t: number;
  fps: number;
}

export interface Followed {
  final: JobStatusResponse;
  samples: Sample[];
  /** POST to the job's finished_at (or to the first terminal poll), null when it never finished. */
  seconds: number | null;
  /** POST to the first poll that saw listing_complete. */
  listingSeconds: number | null;
  timedOut: boolean;
  /** Peak of every pid's VmHWM seen while following (kB). */
  peakRssKb: Record<number, number>;
  /** Median time the status route took to answer (ms). */
  statusMs: number;
}

export interface FollowOptions {
  everyMs?: number;
  timeoutMs: number;
  /** Stop following early (e.g. when listing completes), besides a terminal status. */
  until?: (s: JobStatusResponse) => boolean;
  /** Pids whose memory is sampled. */
  pids?: number[];
  onSample?: (s: Sample) => void;
  /** A reason to give up at once (e.g. a service crashed), checked every poll. */
  abortIf?: () => string | undefined;
}

export async function getStatus(statusUrl: string): Promise<JobStatusResponse> {
  const res = await fetch(statusUrl, { headers: BENCH_HEADERS });
  if (!res.ok) throw new Error(`status ${res.status}: ${await res.text()}`);
  return (await res.json()) as JobStatusResponse;
}

export async function followJob(job: Accepted, o: FollowOptions): Promise<Followed> {
  const samples: Sample[] = [];
  const peakRssKb: Record<number, number> = {};
  let listingSeconds: number | null = null;
  let final: JobStatusResponse | undefined;
  const deadline = job.postedAt + o.timeoutMs;
  const answerMs: number[] = [];
  const median = () => [...answerMs].sort((a, b) => a - b)[Math.floor(answerMs.length / 2)] ?? 0;
  for (;;) {
    let s: JobStatusResponse | undefined;
    const asked = performance.now();
    try {
      s = await getStatus(job.statusUrl);
      answerMs.push(performance.now() - asked);
    } catch {
      /* a slow or failed poll is just a missing sample */
    }
    const t = (Date.now() - job.postedAt) / 1000;
    for (const pid of o.pids ?? []) {
      const mem = procMemory(pid);
      if (mem) peakRssKb[pid] = Math.max(peakRssKb[pid] ?? 0, mem.hwmKb);
    }
    if (s) {
      final = s;
      const sample = { t, done: s.processed, failed: s.failed, total: s.total, listing: s.listing_complete, status: s.status };
      samples.push(sample);
      o.onSample?.(sample);
      if (s.listing_complete && listingSeconds === null) listingSeconds = t;
      if (TERMINAL_JOB_STATUSES.includes(s.status)) {
        const finished = s.finished_at ? (Date.parse(s.finished_at) - job.postedAt) / 1000 : t;
        return { final: s, samples, seconds: Math.min(finished, t), listingSeconds, timedOut: false, peakRssKb, statusMs: median() };
      }
      if (o.until?.(s)) return { final: s, samples, seconds: null, listingSeconds, timedOut: false, peakRssKb, statusMs: median() };
    }
    const abort = o.abortIf?.();
    if (abort) throw new Error(`gave up on job ${job.jobId}: ${abort}`);
    if (Date.now() > deadline) {
      if (!final) throw new Error(`no status answer for job ${job.jobId} within ${o.timeoutMs} ms`);
      return { final, samples, seconds: null, listingSeconds, timedOut: true, peakRssKb, statusMs: median() };
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 250));
  }
}

/** VmRSS and VmHWM (peak RSS since the process started) of a pid, in kB; null when it is gone. */
export function procMemory(pid: number): { rssKb: number; hwmKb: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a pid has used so far, in ms; null when it is gone. Clock ticks are 1/100 s on Linux. */
export function procCpuMs(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing paren): utime is 14th, stime 15th overall.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * The whole machine's CPU so far, from /proc/stat's first line: busy (user, nice, system, irq,
 * softirq, steal) and all (busy + idle + iowait) in ms, summed over cores. Two snapshots around a run
 * give every process's CPU (services, S3 server, emulator, Redis, this bench) and how many cores were busy.
 */
export function boxCpuMs(): { busy: number; all: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
    return { busy: busy * 10, all: (busy + f[3]! + f[4]!) * 10 };
  } catch {
    return null;
  }
}

/** What a run cost the whole machine: CPU ms per file (every process) and the cores it kept busy. */
export interface BoxCpu {
  msPerFile: number;
  coresBusy: number;
}

/** Start a whole-machine CPU reading; call the result with the files done to end it. */
export function boxCpuMeter(): (files: number) => BoxCpu | undefined {
  const cores = cpus().length;
  const before = boxCpuMs();
  return (files) => {
    const after = boxCpuMs();
    if (!before || !after || files <= 0 || after.all <= before.all) return undefined;
    const busy = after.busy - before.busy;
    return { msPerFile: round(busy / files, 2), coresBusy: round((busy / (after.all - before.all)) * cores, 2) };
  };
}

/** The `stage` sums of a worker's drive_import_worker_stage_seconds_total, in seconds. */
export function stageSums(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metricValues(metricsText, '_stage_seconds_total')) {
    const stage = /stage="([^"]+)"/.exec(m.labels)?.[1];
    if (stage) out[stage] = (out[stage] ?? 0) + m.value;
  }
  return out;
}

/** files/s over time: the slope of `done` across a sliding window of about `windowS` seconds. */
export function rateSeries(samples: Array<{ t: number; done: number }>, windowS = 3): Point[] {
  const out: Point[] = [{ t: 0, fps: 0 }];
  let j = 0;
  for (let i = 1; i < samples.length; i++) {
    while (j < i - 1 && samples[i]!.t - samples[j + 1]!.t >= windowS) j++;
    const a = samples[j]!;
    const b = samples[i]!;
    if (b.t - a.t <= 0) continue;
    out.push({ t: round(b.t, 2), fps: round((b.done - a.done) / (b.t - a.t), 1) });
  }
  return out;
}

/** Files/s between the moments `from` and `to` (fractions of `total`) were first reached: the sustained rate. */
export function sustainedRate(samples: Array<{ t: number; done: number }>, total: number, from = 0.1, to = 0.9): number | null {
  const a = samples.find((s) => s.done >= total * from);
  const b = samples.find((s) => s.done >= total * to);
  if (!a || !b || b.t <= a.t) return null;
  return (b.done - a.done) / (b.t - a.t);
}

/** Records a counter over time, for loops that are not behind a status route (the baselines). */
export function counterTimeline(everyMs = 250) {
  const started = Date.now();
  const samples: Array<{ t: number; done: number }> = [{ t: 0, done: 0 }];
  let done = 0;
  const timer = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, done }), everyMs);
  return {
    inc: () => void done++,
    set: (n: number) => void (done = n),
    stop: () => {
      clearInterval(timer);
      samples.push({ t: (Date.now() - started) / 1000, done });
      return samples;
    },
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile (p in 0..100) of some numbers; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `INFO <section>` over a plain socket (the bench needs no Redis client of its own): field -> value, null when Redis does not answer. */
export function redisInfo(url: string, section = 'memory'): Promise<Record<string, string> | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port || 6379), u.hostname || '127.0.0.1');
    let text = '';
    let settled = false;
    const done = (v: Record<string, string> | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(2000, () => done(null));
    socket.once('error', () => done(null));
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      // Skip an +OK for AUTH; then a bulk string: $<length>\r\n<body>\r\n.
      const body = text.replace(/^\+OK\r\n/, '');
      if (body.startsWith('-')) return done(null);
      const m = /^\$(\d+)\r\n/.exec(body);
      if (!m || body.length < m[0].length + Number(m[1])) return;
      const info: Record<string, string> = {};
      for (const line of body.slice(m[0].length, m[0].length + Number(m[1])).split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0 && !line.startsWith('#')) info[line.slice(0, i)] = line.slice(i + 1);
      }
      done(info);
    });
    const auth = u.password ? `AUTH ${u.username ? `${decodeURIComponent(u.username)} ` : ''}${decodeURIComponent(u.password)}\r\n` : '';
    socket.write(`${auth}INFO ${section}\r\n`);
  });
}

/**
 * The samples of a Prometheus text body whose metric name ends with `suffix` (with or without
 * labels), e.g. every service's `..._nodejs_eventloop_lag_max_seconds`.
 */
export function metricValues(text: string, suffix: string): Array<{ name: string; labels: string; value: number }> {
  const out: Array<{ name: string; labels: string; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (m && m[1]!.endsWith(suffix)) out.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

/** GET <url>/metrics as text; null when it does not answer 200 within 5 s. */
export async function scrapeMetrics(baseUrl: string, headers: Record<string, string> = BENCH_HEADERS): Promise<string | null> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { headers, signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

/** A GET timed from send to the last body byte (ms), with its status. */
export async function timedGet(url: string, timeoutMs = 10_000): Promise<{ ms: number; status: number; body: string }> {
  const started = performance.now();
  try {
    const res = await fetch(url, { headers: BENCH_HEADERS, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { ms: performance.now() - started, status: res.status, body };
  } catch (err) {
    return { ms: performance.now() - started, status: 0, body: String(err instanceof Error ? err.message : err) };
  }
}
