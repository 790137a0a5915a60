import { useCallback, useEffect, useRef, useState } from 'react';
import { control, type JobSummary, getJob, listFailed } from '../api.ts';
import type { FileRecord } from '../../../packages/common/src/contracts.ts';
import { type LiveMode, startLive } from '../lib/live.ts';
import { RateMeter, TERMINAL } from '../lib/progress.ts';
import { JobProgress, STATUS_LABEL, StatusBadge } from './JobRow.tsx';

const STEPS = ['queued', 'listing', 'processing', 'finished'] as const;

function stepOf(job: JobSummary): number {
  if (TERMINAL.has(job.status)) return 3;
  if (job.status === 'processing' || (job.status === 'paused' && job.listing_complete)) return 2;
  if (job.status === 'listing' || job.status === 'paused') return 1;
  return 0;
}

export function JobDetail({ id }: { id: string }) {
  const [job, setJob] = useState<JobSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<LiveMode>('connecting');
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const meter = useRef(new RateMeter());

  const update = useCallback((j: JobSummary) => {
    meter.current.add({ at: Date.now(), files: j.processed + j.failed, bytes: j.bytes_done });
    setJob(j);
  }, []);

  useEffect(
    () =>
      startLive<JobSummary>({
        url: `/api/import/jobs/${id}/events`,
        poll: async () => [await getJob(id)],
        onUpdate: (items) => items.forEach(update),
        onMode: setMode,
      }),
    [id, update],
  );
  useEffect(() => {
    getJob(id).then(update, (err: Error) => setError(err.message));
  }, [id, update]);

  const act = async (action: 'retry' | 'cancel' | 'pause' | 'resume') => {
    setBusy(true);
    setActionError(null);
    try {
      update(await control(id, action));
    } catch (err) {
      setActionError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (error && !job) return <p className="error" role="alert">Could not load job {id}: {error}</p>;
  if (!job) return <p className="page-state" role="status">Loading job…</p>;
  const step = stepOf(job);
  const ended = TERMINAL.has(job.status);
  return (
    <>
      <p>
        <a href="#/">← All imports</a>
      </p>
      <section className="card" aria-labelledby="job-title">
        <div className="job-head">
          <h2 id="job-title">{job.folder_name ?? job.folder_id}</h2>
          <StatusBadge status={job.status} />
          <span className={`live live-${mode}`}>{mode === 'push' ? '● Live' : mode === 'polling' ? 'Reconnecting… (polling)' : 'Connecting…'}</span>
        </div>
        <ol className="timeline" aria-label="Timeline">
          {STEPS.map((s, i) => (
            <li key={s} className={i < step ? 'done' : i === step ? 'current' : ''} aria-current={i === step ? 'step' : undefined}>
              <span className="dot" aria-hidden="true" />
              {s === 'finished' && ended ? STATUS_LABEL[job.status] : s[0]!.toUpperCase() + s.slice(1)}
              <span className="when">
                {s === 'queued' ? new Date(job.created_at).toLocaleTimeString() : s === 'listing' && job.started_at ? new Date(job.started_at).toLocaleTimeString() : s === 'finished' && job.finished_at ? new Date(job.finished_at).toLocaleTimeString() : ''}
              </span>
            </li>
          ))}
        </ol>
        <JobProgress job={job} meter={meter.current} />
        {job.error ? <p className="error">{job.error}</p> : null}
        <div className="actions">
          <button type="button" onClick={() => act('retry')} disabled={busy || !ended || job.failed === 0}>
            Retry failed
          </button>
          {job.status === 'paused' ? (
            <button type="button" onClick={() => act('resume')} disabled={busy}>
              Resume
            </button>
          ) : (
            <button type="button" onClick={() => act('pause')} disabled={busy || ended}>
              Pause
            </button>
          )}
          <button type="button" className="danger" onClick={() => act('cancel')} disabled={busy || ended}>
            Cancel
          </button>
        </div>
        <p className="error" role="alert">
          {actionError}
        </p>
      </section>
      <FailedFiles id={id} failed={job.failed} />
    </>
  );
}

function FailedFiles({ id, failed }: { id: string; failed: number }) {
  const [files, setFiles] = useState<FileRecord[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    listFailed(id).then(
      (page) => {
        setFiles(page.files);
        setNext(page.next_cursor);
      },
      (err: Error) => setError(err.message),
    );
  }, [id, failed]);
  const more = async () => {
    if (!next) return;
    const page = await listFailed(id, next);
    setFiles((old) => [...(old ?? []), ...page.files]);
    setNext(page.next_cursor);
  };
  return (
    <section className="card" aria-labelledby="failed-title">
      <h2 id="failed-title">Failed files</h2>
      {error ? <p className="error">Could not load them: {error}</p> : null}
      {!files && !error ? <p className="page-state">Loading…</p> : null}
      {files && files.length === 0 ? <p className="empty">No failed files.</p> : null}
      {files && files.length > 0 ? (
        <div className="table-wrap">
          <table className="failed">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Folder</th>
                <th scope="col">Attempts</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.id}>
                  <td>{f.name}</td>
                  <td>{f.folder_path || '/'}</td>
                  <td className="num">{f.attempts}</td>
                  <td className="reason">{f.error ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {next ? (
        <button type="button" onClick={more}>
          More
        </button>
      ) : null}
    </section>
  );
}
