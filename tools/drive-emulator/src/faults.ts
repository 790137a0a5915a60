/**
 * Switchable faults. All are off by default; setting them replaces the previous set and restarts
 * their counters (failNext, emptyPageEvery, corruptFirstDownloadOf, the quota window, the seed).
 */
import { prng } from './random.ts';

export type DriveKind = 'list' | 'get' | 'media';
const KINDS: readonly DriveKind[] = ['list', 'get', 'media'];

export interface Faults {
  /** Added before every answer: one number for all, or per kind. */
  latencyMs?: number | Partial<Record<DriveKind, number>>;
  /** Pages never hold more than this, whatever pageSize asks. */
  maxPageSize?: number;
  /** Every Nth list page (N >= 2, counted across all listings) is empty but has a nextPageToken. */
  emptyPageEvery?: number;
  /** Probability (0..1) that a request fails with one of errorStatuses: one number for all kinds, or per kind. */
  errorRate?: number | Partial<Record<DriveKind, number>>;
  /** Picked uniformly for random errors; default all four. 403 = userRateLimitExceeded, 429 = rateLimitExceeded, 5xx = backendError. */
  errorStatuses?: Array<403 | 429 | 500 | 503>;
  /** Sent as Retry-After (seconds) on 429 answers when set. */
  retryAfterSeconds?: number;
  /** Seed for the random faults (errorRate, corruptRate, dropConnectionRate); default 1. */
  seed?: number;
  /** The next `count` matching requests (of `kind`, for `fileId`, when given) fail with `status`. */
  failNext?: { count: number; status: number; reason?: string; kind?: DriveKind; fileId?: string };
  /** Requests beyond this many within any 1 s window answer quotaStatus (rejected ones do not count). */
  quotaPerSecond?: number;
  /** 429 (default) or 403, both with reason rateLimitExceeded. */
  quotaStatus?: 429 | 403;
  /** Always-failing files, e.g. {id: {status: 403, reason: 'cannotDownloadAbusiveFile', kind: 'media'}}; kind unset = get and media. */
  permanent?: Record<string, { status: number; reason?: string; message?: string; kind?: 'get' | 'media' }>;
  /** Probability (0..1) that a media body has one flipped byte (same length; listed md5 unchanged). */
  corruptRate?: number;
  /** These files' first download (after the faults were set) is corrupted; later ones are fine. */
  corruptFirstDownloadOf?: string[];
  /** These files' first download (after the faults were set) stops half way and hangs, the connection left open. */
  stallFirstDownloadOf?: string[];
  /** Media bodies trickle at this rate. */
  slowBodyBytesPerSecond?: number;
  /** Probability (0..1) that a media answer's socket is destroyed halfway through the body. */
  dropConnectionRate?: number;
}

export interface InjectedError {
  status: number;
  reason?: string;
  message?: string;
  retryAfterSeconds?: number;
}

const num = (v: unknown, name: string, min = 0, max = Infinity): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Error(`faults.${name} must be a number in [${min}, ${max}]`);
  return v;
};

function perKind(v: unknown, name: string, max: number): void {
  if (typeof v === 'number') {
    num(v, name, 0, max);
    return;
  }
  if (v === null || typeof v !== 'object') throw new Error(`faults.${name} must be a number or {list, get, media}`);
  for (const [k, x] of Object.entries(v)) {
    if (!KINDS.includes(k as DriveKind)) throw new Error(`faults.${name}.${k}: unknown kind (list, get, media)`);
    num(x, `${name}.${k}`, 0, max);
  }
}

/** Check a Faults object (from JSON); unknown keys are errors so a typo never silently does nothing. */
export function validateFaults(input: unknown): Faults {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('faults must be an object');
  const f = input as Record<string, unknown>;
  const known = new Set([
    'latencyMs', 'maxPageSize', 'emptyPageEvery', 'errorRate', 'errorStatuses', 'retryAfterSeconds', 'seed', 'failNext',
    'quotaPerSecond', 'quotaStatus', 'permanent', 'corruptRate', 'corruptFirstDownloadOf', 'stallFirstDownloadOf', 'slowBodyBytesPerSecond', 'dropConnectionRate',
  ]);
  for (const k of Object.keys(f)) if (!known.has(k)) throw new Error(`unknown fault ${k}`);
  if (f.latencyMs !== undefined) perKind(f.latencyMs, 'latencyMs', 600_000);
  if (f.maxPageSize !== undefined) num(f.maxPageSize, 'maxPageSize', 1, 1000);
  if (f.emptyPageEvery !== undefined) num(f.emptyPageEvery, 'emptyPageEvery', 2);
  if (f.errorRate !== undefined) perKind(f.errorRate, 'errorRate', 1);
  if (f.errorStatuses !== undefined) {
    if (!Array.isArray(f.errorStatuses) || f.errorStatuses.length === 0 || !f.errorStatuses.every((s) => [403, 429, 500, 503].includes(s as number))) {
      throw new Error('faults.errorStatuses must be a non-empty list of 403, 429, 500, 503');
    }
  }
  if (f.retryAfterSeconds !== undefined) num(f.retryAfterSeconds, 'retryAfterSeconds', 0, 86_400);
  if (f.seed !== undefined) num(f.seed, 'seed');
  if (f.failNext !== undefined) {
    const n = f.failNext as Record<string, unknown>;
    if (n === null || typeof n !== 'object') throw new Error('faults.failNext must be {count, status, reason?, kind?, fileId?}');
    num(n.count, 'failNext.count', 0);
    num(n.status, 'failNext.status', 400, 599);
    if (n.kind !== undefined && !KINDS.includes(n.kind as DriveKind)) throw new Error('faults.failNext.kind must be list, get or media');
  }
  if (f.quotaPerSecond !== undefined) num(f.quotaPerSecond, 'quotaPerSecond', 1);
  if (f.quotaStatus !== undefined && f.quotaStatus !== 429 && f.quotaStatus !== 403) throw new Error('faults.quotaStatus must be 429 or 403');
  if (f.permanent !== undefined) {
    if (f.permanent === null || typeof f.permanent !== 'object') throw new Error('faults.permanent must be {fileId: {status, reason}}');
    for (const [id, p] of Object.entries(f.permanent as Record<string, Record<string, unknown>>)) {
      num(p?.status, `permanent.${id}.status`, 400, 599);
      if (p.kind !== undefined && p.kind !== 'get' && p.kind !== 'media') throw new Error(`faults.permanent.${id}.kind must be get or media`);
    }
  }
  if (f.corruptRate !== undefined) num(f.corruptRate, 'corruptRate', 0, 1);
  if (f.corruptFirstDownloadOf !== undefined && !(Array.isArray(f.corruptFirstDownloadOf) && f.corruptFirstDownloadOf.every((x) => typeof x === 'string'))) {
    throw new Error('faults.corruptFirstDownloadOf must be a list of file ids');
  }
  if (f.stallFirstDownloadOf !== undefined && !(Array.isArray(f.stallFirstDownloadOf) && f.stallFirstDownloadOf.every((x) => typeof x === 'string'))) {
    throw new Error('faults.stallFirstDownloadOf must be a list of file ids');
  }
  if (f.slowBodyBytesPerSecond !== undefined) num(f.slowBodyBytesPerSecond, 'slowBodyBytesPerSecond', 1);
  if (f.dropConnectionRate !== undefined) num(f.dropConnectionRate, 'dropConnectionRate', 0, 1);
  return structuredClone(f) as Faults;
}

const RANDOM_REASON: Record<number, string> = { 403: 'userRateLimitExceeded', 429: 'rateLimitExceeded', 500: 'backendError', 503: 'backendError' };

export class FaultEngine {
  private faults: Faults = {};
  private random = prng(1);
  private failNextLeft = 0;
  private pages = 0;
  private corruptedOnce = new Set<string>();
  private stalledOnce = new Set<string>();
  /** Accepted request times in the last second (a ring would be faster; the quota is small). */
  private quotaTimes: number[] = [];
  private quotaHead = 0;

  set(faults: Faults): void {
    this.faults = validateFaults(faults);
    this.random = prng(this.faults.seed ?? 1);
    this.failNextLeft = this.faults.failNext?.count ?? 0;
    this.pages = 0;
    this.corruptedOnce = new Set();
    this.stalledOnce = new Set();
    this.quotaTimes = [];
    this.quotaHead = 0;
  }

  /** The faults in force; failNext.count is what is left of the burst. */
  get(): Faults {
    const copy = structuredClone(this.faults);
    if (copy.failNext) copy.failNext.count = this.failNextLeft;
    return copy;
  }

  latency(kind: DriveKind): number {
    const l = this.faults.latencyMs;
    return typeof l === 'number' ? l : (l?.[kind] ?? 0);
  }

  private rate(kind: DriveKind): number {
    const r = this.faults.errorRate;
    return typeof r === 'number' ? r : (r?.[kind] ?? 0);
  }

  /** The error this request must get, if any. Called once per Drive request, at arrival. */
  decide(kind: DriveKind, fileId: string | null, now: number): InjectedError | null {
    const f = this.faults;
    const retryAfter = f.retryAfterSeconds;
    if (f.quotaPerSecond !== undefined) {
      while (this.quotaHead < this.quotaTimes.length && this.quotaTimes[this.quotaHead]! <= now - 1000) this.quotaHead++;
      if (this.quotaHead > 4096) {
        this.quotaTimes = this.quotaTimes.slice(this.quotaHead);
        this.quotaHead = 0;
      }
      if (this.quotaTimes.length - this.quotaHead >= f.quotaPerSecond) {
        const status = f.quotaStatus ?? 429;
        return { status, reason: 'rateLimitExceeded', retryAfterSeconds: status === 429 ? retryAfter : undefined };
      }
      this.quotaTimes.push(now);
    }
    const permanent = fileId !== null && kind !== 'list' ? f.permanent?.[fileId] : undefined;
    if (permanent && (permanent.kind === undefined || permanent.kind === kind)) {
      return { status: permanent.status, reason: permanent.reason, message: permanent.message };
    }
    const burst = f.failNext;
    if (burst && this.failNextLeft > 0 && (burst.kind === undefined || burst.kind === kind) && (burst.fileId === undefined || burst.fileId === fileId)) {
      this.failNextLeft--;
      return { status: burst.status, reason: burst.reason, retryAfterSeconds: burst.status === 429 ? retryAfter : undefined };
    }
    const rate = this.rate(kind);
    if (rate > 0 && this.random() < rate) {
      const statuses = f.errorStatuses ?? [403, 429, 500, 503];
      const status = statuses[Math.floor(this.random() * statuses.length)]!;
      return { status, reason: RANDOM_REASON[status], retryAfterSeconds: status === 429 ? retryAfter : undefined };
    }
    return null;
  }

  pageSize(requested: number): number {
    return Math.min(requested, this.faults.maxPageSize ?? requested);
  }

  /** Counts list pages; true when this one must be empty. */
  emptyPage(): boolean {
    this.pages++;
    const every = this.faults.emptyPageEvery;
    return every !== undefined && this.pages % every === 0;
  }

  /** Whether this download's body gets a flipped byte. */
  corrupt(fileId: string): boolean {
    if (this.faults.corruptFirstDownloadOf?.includes(fileId) && !this.corruptedOnce.has(fileId)) {
      this.corruptedOnce.add(fileId);
      return true;
    }
    const rate = this.faults.corruptRate ?? 0;
    return rate > 0 && this.random() < rate;
  }

  /** Whether this download's body stops half way and never ends (once per listed file). */
  stall(fileId: string): boolean {
    if (!this.faults.stallFirstDownloadOf?.includes(fileId) || this.stalledOnce.has(fileId)) return false;
    this.stalledOnce.add(fileId);
    return true;
  }

  drop(): boolean {
    const rate = this.faults.dropConnectionRate ?? 0;
    return rate > 0 && this.random() < rate;
  }

  slowBodyBytesPerSecond(): number | null {
    return this.faults.slowBodyBytesPerSecond ?? null;
  }
}
