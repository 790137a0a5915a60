/** Progress, rate and ETA of a job from its summaries over time (pure: unit-tested in node). */
export interface JobCounts {
  status: string;
  total: number;
  processed: number;
  failed: number;
  skipped: number;
  bytes_total: number;
  bytes_done: number;
  listing_complete: boolean;
}

export const TERMINAL = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/** Files finished (stored, skipped or failed) out of those listed, 0..1; a finished job is 1. */
export function fileFraction(job: JobCounts): number {
  if (TERMINAL.has(job.status) && job.status !== 'cancelled' && job.status !== 'failed') return 1;
  if (job.total <= 0) return 0;
  return Math.min(1, (job.processed + job.failed) / job.total);
}

export function byteFraction(job: JobCounts): number {
  if (job.bytes_total <= 0) return fileFraction(job);
  return Math.min(1, job.bytes_done / job.bytes_total);
}

export interface Sample {
  at: number;
  files: number;
  bytes: number;
}

/** Keeps the last `windowMs` of samples; rate is measured over that window. */
export class RateMeter {
  private samples: Sample[] = [];
  constructor(private readonly windowMs = 10_000) {}

  add(sample: Sample): void {
    const last = this.samples.at(-1);
    if (last && sample.files < last.files) this.samples = []; // a retry resets the counts
    this.samples.push(sample);
    while (this.samples.length > 2 && sample.at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  /** Files and bytes per second, or null before two samples a moment apart. */
  rate(): { files: number; bytes: number } | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < 500) return null;
    const s = (last.at - first.at) / 1000;
    return { files: (last.files - first.files) / s, bytes: (last.bytes - first.bytes) / s };
  }
}

/** Seconds left at `filesPerSecond`, or null when it cannot be told (no rate, listing not done, ended). */
export function etaSeconds(job: JobCounts, filesPerSecond: number | null): number | null {
  if (TERMINAL.has(job.status) || !job.listing_complete || !filesPerSecond || filesPerSecond <= 0) return null;
  const left = job.total - job.processed - job.failed;
  return left <= 0 ? 0 : Math.ceil(left / filesPerSecond);
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const percent = (fraction: number) => `${Math.floor(fraction * 100)} %`;
