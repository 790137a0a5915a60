/**
 * How many files one worker copies at once, adapted to what it sees, the way TCP Vegas sizes its
 * window: while a file's time in flight (pacing excluded) stays near the best seen, more at once
 * means more files per second (Drive's latency, not this box, is the limit), so the limit grows;
 * once the time climbs well above the best, the files only queue for the same CPU or sockets, so it
 * shrinks. With 150 ms of Drive latency 16 files at once cap a worker at 107 files/s; this finds the
 * 30+ that a 200 req/s quota needs without anyone doing Little's law. The best time is re-measured
 * at half the limit now and then (BBR's ProbeRTT), so a queue it built never becomes the norm; where
 * the Drive quota is the bound, it shrinks. Bounded by `min`, `max`
 * (WORKER_CONCURRENCY) and a memory budget: the bytes a file may hold while in flight, summed.
 */
export interface AdaptiveLimitOptions {
  /** Where it starts and the least it goes to. */
  min: number;
  /** The most at once (WORKER_CONCURRENCY). */
  max: number;
  /** What the files in flight may hold in memory together (their weights summed), bytes. */
  memoryBudgetBytes: number;
  /** Time samples per adjustment (default 32). */
  samplesPerWindow?: number;
  /** Called when the limit changes. */
  onChange?: (limit: number) => void;
}

export interface AdaptiveLimit {
  /** Runs fn once a slot and `weightBytes` of the memory budget are free (FIFO). */
  run<T>(weightBytes: number, fn: () => Promise<T>): Promise<T>;
  /** One file's time in flight, pacing excluded (ms), and how long it waited for the pacer (ms). */
  observe(ms: number, pacedMs?: number): void;
  readonly limit: number;
  readonly active: number;
  readonly pending: number;
}

/** Below this ratio of the window's mean time to the best window's, grow; above SHRINK_ABOVE, shrink. */
const GROW_BELOW = 1.25;
const SHRINK_ABOVE = 1.6;
/** The best time is forgotten this many windows after it was seen, so a change of conditions is learnt. */
const BEST_WINDOWS = 40;

export function createAdaptiveLimit(o: AdaptiveLimitOptions): AdaptiveLimit {
  const min = Math.max(1, Math.min(o.min, o.max));
  const samplesPerWindow = o.samplesPerWindow ?? 32;
  let limit = min;
  let active = 0;
  let heldBytes = 0;
  const waiting: Array<{ weight: number; start: () => void }> = [];
  let head = 0; // waiting[head..] are queued; the array is compacted now and then

  let sum = 0;
  let pacedSum = 0;
  let count = 0;
  let over = 0; // windows in a row well above the best: one alone is noise
  let busiest = 0; // the most files in flight during the window: growing is pointless if the limit was never reached
  let best = Number.POSITIVE_INFINITY;
  let bestAge = 0;
  // Re-measuring the best time at half the limit (see endWindow): samples still to skip (files
  // that started before the drop), and the limit to go back to.
  let probing = false;
  let probeSkip = 0;
  let resumeLimit = min;

  const fits = (weight: number) => active < limit && (heldBytes + weight <= o.memoryBudgetBytes || active === 0);

  function pump() {
    while (head < waiting.length && fits(waiting[head]!.weight)) {
      const next = waiting[head++]!;
      next.start();
    }
    if (head > 1024 && head * 2 > waiting.length) {
      waiting.splice(0, head);
      head = 0;
    }
  }

  function setLimit(next: number) {
    next = Math.max(min, Math.min(o.max, Math.round(next)));
    if (next === limit) return;
    limit = next;
    o.onChange?.(limit);
    pump();
  }

  function resetWindow() {
    sum = 0;
    pacedSum = 0;
    count = 0;
    busiest = active;
  }

  function endWindow() {
    const mean = sum / count;
    if (probing) {
      // Measured with half the files in flight: the base time, without the queue that more files build.
      probing = false;
      best = mean;
      bestAge = 0;
      resetWindow();
      setLimit(resumeLimit);
      return;
    }
    if (mean < best) {
      best = mean;
      bestAge = 0;
    } else if (++bestAge > BEST_WINDOWS) {
      // The best time is old: measure it again with half the files in flight, as BBR's ProbeRTT
      // does with fewer. Taking the time at the current limit instead would count the queue this
      // limit built as the norm, and the limit would ratchet up a quarter each time (seen in S1: 83
      // in flight where 16 copied as fast). Half, not the floor: where latency is the bound (S2 at
      // 300 ms) a window at the floor cost several per cent of the files per second.
      probing = true;
      probeSkip = active;
      resumeLimit = limit;
      resetWindow();
      setLimit(limit / 2);
      return;
    }
    const ratio = mean / best;
    // Files waiting for the Drive pacer longer than they take to copy: the quota is the limit, and
    // more files at once would only wait longer (and hold memory).
    const paceBound = pacedSum / count > mean;
    over = ratio > SHRINK_ABOVE ? over + 1 : 0;
    if (over >= 2) setLimit(limit * 0.8);
    // Files wait for the pacer longer than they take: fewer at once lose nothing, and hold less memory.
    else if (paceBound) setLimit(limit * 0.9);
    else if (ratio < GROW_BELOW && busiest >= limit && !paceBound) setLimit(limit + Math.max(1, limit / 4));
    resetWindow();
  }

  return {
    run<T>(weightBytes: number, fn: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          active++;
          heldBytes += weightBytes;
          if (active > busiest) busiest = active;
          fn()
            .then(resolve, reject)
            .finally(() => {
              active--;
              heldBytes -= weightBytes;
              pump();
            });
        };
        if (head === waiting.length && fits(weightBytes)) start();
        else waiting.push({ weight: weightBytes, start });
      });
    },
    observe(ms, pacedMs = 0) {
      if (!(ms >= 0)) return;
      if (probing && probeSkip > 0) {
        probeSkip--; // a file that started before the drop
        return;
      }
      sum += ms;
      pacedSum += pacedMs;
      if (++count >= samplesPerWindow) endWindow();
    },
    get limit() {
      return limit;
    },
    get active() {
      return active;
    },
    get pending() {
      return waiting.length - head;
    },
  };
}
