/** Request counts and per-request arrival times, for tests and benchmarks (also served at /__emulator/stats). */

export type RequestKind = 'list' | 'get' | 'media' | 'other';
const KINDS: RequestKind[] = ['list', 'get', 'media', 'other'];

export interface EmulatorStats {
  /** Drive requests (control routes excluded). */
  total: number;
  byKind: Record<RequestKind, number>;
  /** Answers by HTTP status ('200', '206', '403', '429', ...). */
  byStatus: Record<string, number>;
  /** Media requests (= byKind.media). */
  media: number;
  /** Rate-limit answers: 429 and 403 (user)RateLimitExceeded. */
  rateLimited: number;
  /** Media answers that started sending bytes, per file id (corrupted and dropped ones included). */
  downloads: Record<string, number>;
  /** Media bodies cut on purpose (dropConnectionRate). */
  dropped: number;
  /** Media bodies with a flipped byte (corruptRate, corruptFirstDownloadOf). */
  corrupted: number;
  bytesSent: number;
  /** Arrival times in ms (performance.now() of the emulator's process), one per request. */
  timestamps: number[];
  /** The most requests (of one kind, or all) that arrived within any window of windowMs. */
  maxInWindow(windowMs: number, kind?: RequestKind): number;
}

/** Two-pointer sweep over sorted times: the largest count within any span of windowMs. */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export class StatsRecorder {
  private total = 0;
  private byKind: Record<RequestKind, number> = { list: 0, get: 0, media: 0, other: 0 };
  private byStatus: Record<string, number> = {};
  private downloads = new Map<string, number>();
  private rateLimited = 0;
  private dropped = 0;
  private corrupted = 0;
  private bytesSent = 0;
  private times: number[] = [];
  private kinds: number[] = [];

  request(kind: RequestKind, now: number): void {
    this.total++;
    this.byKind[kind]++;
    this.times.push(now);
    this.kinds.push(KINDS.indexOf(kind));
  }

  status(status: number, rateLimited: boolean): void {
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    if (rateLimited) this.rateLimited++;
  }

  download(id: string): void {
    this.downloads.set(id, (this.downloads.get(id) ?? 0) + 1);
  }

  /** How many downloads of `id` started so far. */
  downloadsOf(id: string): number {
    return this.downloads.get(id) ?? 0;
  }

  drop(): void {
    this.dropped++;
  }

  corrupt(): void {
    this.corrupted++;
  }

  sent(bytes: number): void {
    this.bytesSent += bytes;
  }

  reset(): void {
    this.total = 0;
    this.byKind = { list: 0, get: 0, media: 0, other: 0 };
    this.byStatus = {};
    this.downloads.clear();
    this.rateLimited = this.dropped = this.corrupted = this.bytesSent = 0;
    this.times = [];
    this.kinds = [];
  }

  snapshot(): EmulatorStats {
    const times = this.times.slice();
    const kinds = this.kinds.slice();
    return {
      total: this.total,
      byKind: { ...this.byKind },
      byStatus: { ...this.byStatus },
      media: this.byKind.media,
      rateLimited: this.rateLimited,
      downloads: Object.fromEntries(this.downloads),
      dropped: this.dropped,
      corrupted: this.corrupted,
      bytesSent: this.bytesSent,
      timestamps: times,
      maxInWindow: (windowMs, kind) =>
        maxInWindow(kind === undefined ? times : times.filter((_, i) => kinds[i] === KINDS.indexOf(kind)), windowMs),
    };
  }
}
