import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, type JobSummary, listJobs, type Session } from '../api.ts';
import { checkImportForm } from '../lib/folder-input.ts';
import { type LiveMode, startLive } from '../lib/live.ts';
import { RateMeter } from '../lib/progress.ts';
import { JobProgress, StatusBadge } from './JobRow.tsx';

export function Imports({ session }: { session: Session }) {
  const [jobs, setJobs] = useState<JobSummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [mode, setMode] = useState<LiveMode>('connecting');
  const [pushes, setPushes] = useState(0);
  const meters = useRef(new Map<string, RateMeter>());

  const merge = (updates: JobSummary[], replace: boolean) => {
    for (const j of updates) {
      let m = meters.current.get(j.job_id);
      if (!m) meters.current.set(j.job_id, (m = new RateMeter()));
      m.add({ at: Date.now(), files: j.processed + j.failed, bytes: j.bytes_done });
    }
    setJobs((old) => {
      if (replace || !old) return updates;
      const byId = new Map(updates.map((j) => [j.job_id, j]));
      const kept = old.map((j) => byId.get(j.job_id) ?? j);
      const known = new Set(old.map((j) => j.job_id));
      const added = updates.filter((j) => !known.has(j.job_id));
      return [...added, ...kept].sort((a, b) => b.created_at.localeCompare(a.created_at));
    });
  };

  useEffect(() => {
    listJobs().then(
      (page) => merge(page.jobs, true),
      (err: Error) => setLoadError(err.message),
    );
    return startLive<JobSummary>({
      url: '/api/import/events',
      poll: async () => (await listJobs()).jobs,
      onUpdate: (items, via) => {
        if (via === 'push') setPushes((n) => n + 1);
        merge(items, via === 'poll');
      },
      onMode: setMode,
    });
  }, []);

  return (
    <>
      <ImportForm session={session} onStarted={(job) => merge([job], false)} />
      <section aria-labelledby="jobs-title" className="jobs">
        <div className="section-head">
          <h2 id="jobs-title">Jobs</h2>
          <span className={`live live-${mode}`} data-pushes={pushes} data-testid="live-state">
            {mode === 'push' ? '● Live' : mode === 'polling' ? 'Reconnecting… (polling)' : 'Connecting…'}
          </span>
        </div>
        {loadError && !jobs ? <p className="error" role="alert">Could not load the jobs: {loadError}</p> : null}
        {!jobs && !loadError ? <p className="page-state">Loading jobs…</p> : null}
        {jobs && jobs.length === 0 ? <p className="empty">No imports yet. Paste a folder URL above to start one.</p> : null}
        <ul className="job-list">
          {jobs?.map((job) => (
            <li key={job.job_id} className="card job" data-job-id={job.job_id}>
              <div className="job-head">
                <a href={`#/jobs/${job.job_id}`} className="job-name">
                  {job.folder_name ?? job.folder_id}
                </a>
                <StatusBadge status={job.status} />
              </div>
              <p className="meta">
                {new Date(job.created_at).toLocaleString()} · to {job.destination}
                {job.owner ? ` · by ${job.owner}` : ''}
              </p>
              <JobProgress job={job} meter={meters.current.get(job.job_id)} />
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function ImportForm({ session, onStarted }: { session: Session; onStarted: (job: JobSummary) => void }) {
  const [folderUrl, setFolderUrl] = useState('');
  const [destination, setDestination] = useState('');
  const [thumbnails, setThumbnails] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(null);
    const checked = checkImportForm({ folder_url: folderUrl, destination, thumbnails });
    if (!checked.ok) return setError(checked.message);
    setError(null);
    setBusy(true);
    try {
      const accepted = await api<{ job_id: string; message: string }>('/api/import/google-drive', { method: 'POST', body: JSON.stringify(checked.body) });
      setNotice(accepted.message);
      setFolderUrl('');
      onStarted(await api<JobSummary>(`/api/import/status/${accepted.job_id}`));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card import-form" onSubmit={submit} noValidate aria-labelledby="import-title">
      <h2 id="import-title">New import</h2>
      <label htmlFor="folder-url">Google Drive folder URL or id</label>
      <div className="row">
        <input
          id="folder-url"
          value={folderUrl}
          onChange={(e) => setFolderUrl(e.target.value)}
          placeholder="https://drive.google.com/drive/folders/…"
          autoComplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby="import-error"
        />
        <label className="sr-only" htmlFor="destination">
          Destination
        </label>
        <select id="destination" value={destination} onChange={(e) => setDestination(e.target.value)}>
          <option value="">Default store{session.default_destination ? ` (${session.default_destination})` : ''}</option>
          {(session.destinations ?? []).map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Import'}
        </button>
      </div>
      <label className="check">
        <input type="checkbox" checked={thumbnails} onChange={(e) => setThumbnails(e.target.checked)} /> Make thumbnails
      </label>
      {session.demo_folder_url ? (
        <p className="hint">
          Try the demo folder:{' '}
          <button type="button" className="link" onClick={() => setFolderUrl(session.demo_folder_url!)}>
            use {session.demo_folder_url}
          </button>
        </p>
      ) : null}
      <p id="import-error" className="error" role="alert">
        {error}
      </p>
      <p className="notice" role="status">
        {notice}
      </p>
    </form>
  );
}
