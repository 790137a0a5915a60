/**
 * The status route's answers, kept per job until that job changes (every write to a job goes through
 * this process, which drops its entry) or for at most `ttlMs` (a second replica on SQL Server writes
 * without telling us). A page polling a job, or a hundred of them, then costs no query at all while
 * nothing moves; callers asking at the same moment share one read. Answers are kept serialized
 * (JSON text): a hit costs no stringify either.
 */
/** A status answer and whose job it is (checked per request: the answer is shared by every caller). */
export interface StatusAnswer {
  owner: string | null;
  body: string;
}

export interface StatusCache {
  get(jobId: string, read: () => Promise<StatusAnswer>): Promise<StatusAnswer>;
  invalidate(jobId: string): void;
}

/** Jobs remembered at most; the oldest entry goes first (Map keeps insertion order). */
const MAX_ENTRIES = 1000;

export function createStatusCache(ttlMs = 1000): StatusCache {
  const entries = new Map<string, { at: number; answer: Promise<StatusAnswer> }>();
  return {
    get(jobId, read) {
      const key = jobId.toLowerCase();
      const hit = entries.get(key);
      if (hit && Date.now() - hit.at < ttlMs) return hit.answer;
      const answer = read();
      entries.delete(key);
      entries.set(key, { at: Date.now(), answer });
      if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      // A failed read (404, database away) is not remembered.
      answer.catch(() => {
        if (entries.get(key)?.answer === answer) entries.delete(key);
      });
      return answer;
    },
    invalidate(jobId) {
      entries.delete(jobId.toLowerCase());
    },
  };
}
