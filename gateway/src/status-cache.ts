/**
 * The status route's answers in the gateway, per job and caller scope, served stale-while-revalidate:
 * a poll gets the last answer at once and, when it is older than `freshMs`, one refresh runs behind
 * it (shared by every poller). An answer older than `maxAgeMs` is never served: that poll waits for
 * a new one. So every page polling a job costs the metadata-service at most one read per `freshMs`,
 * and a poll never waits behind that service's busy moments (a million-file listing's writes) while
 * its answer is at most `maxAgeMs` old. Failures (404, the service away) are never kept.
 */
export interface StatusCache {
  get(key: string, load: () => Promise<string>): Promise<string>;
}

export interface StatusCacheOptions {
  /** Younger answers are served without a refresh (default 200 ms). */
  freshMs?: number;
  /** Older answers are not served at all (default 1000 ms): the most a status can lag. */
  maxAgeMs?: number;
  /** Entries kept at most, oldest dropped first (default 10,000). */
  maxEntries?: number;
}

interface Entry {
  body: string | null;
  at: number;
  loading: Promise<string> | null;
}

export function createStatusCache(options: StatusCacheOptions = {}): StatusCache {
  const freshMs = options.freshMs ?? 200;
  const maxAgeMs = options.maxAgeMs ?? 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();

  function refresh(key: string, entry: Entry, load: () => Promise<string>): Promise<string> {
    entry.loading ??= load().then(
      (body) => {
        entry.body = body;
        entry.at = performance.now();
        entry.loading = null;
        return body;
      },
      (err: unknown) => {
        entry.loading = null;
        if (entry.body === null) entries.delete(key);
        throw err;
      },
    );
    return entry.loading;
  }

  return {
    get(key, load) {
      let entry = entries.get(key);
      if (!entry) {
        entry = { body: null, at: 0, loading: null };
        entries.set(key, entry);
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      const age = performance.now() - entry.at;
      if (entry.body !== null && age < maxAgeMs) {
        if (age >= freshMs) refresh(key, entry, load).catch(() => {}); // the next poll sees it, or the error
        return Promise.resolve(entry.body);
      }
      return refresh(key, entry, load);
    },
  };
}
