/**
 * Has this import ended (cancelled, failed) since its batch started? Asked before each file of a
 * batch, answered from the metadata-service at most once a second per job, so a cancel stops a
 * running batch within about a second without a request per file.
 */
import { JobSummary, TERMINAL_JOB_STATUSES, type ServiceClient } from '@drive-import/common';

export type JobEnded = (jobId: string) => Promise<boolean>;

export function createJobWatch(metadata: ServiceClient, ttlMs = 1000): JobEnded {
  const known = new Map<string, { at: number; ended: Promise<boolean> }>();
  return (jobId) => {
    const hit = known.get(jobId);
    if (hit && performance.now() - hit.at < ttlMs) return hit.ended;
    // Unreachable or slow: keep copying (the results call decides); never fail a file over this.
    const ended = metadata
      .call('GET', `/jobs/${jobId}`, { schema: JobSummary, timeoutMs: 2000 })
      .then((job) => TERMINAL_JOB_STATUSES.includes(job.status))
      .catch(() => false);
    known.set(jobId, { at: performance.now(), ended });
    if (known.size > 1000) known.delete(known.keys().next().value!);
    return ended;
  };
}
