import { useEffect, useState } from 'react';
import type { ActivityListResponse, StatsResponse } from '../../../packages/common/src/contracts.ts';
import { api } from '../api.ts';
import { formatBytes } from '../lib/progress.ts';
import { StatusBadge } from './JobRow.tsx';

export function Usage() {
  const [stats, setStats] = useState<StatsResponse | null>(null);
  const [activity, setActivity] = useState<ActivityListResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<StatsResponse>('/api/stats').then(setStats, (e: Error) => setError(e.message));
    api<ActivityListResponse>('/api/activity?per_page=30').then(setActivity, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p className="error" role="alert">Could not load usage: {error}</p>;
  if (!stats) return <p className="page-state" role="status">Loading usage…</p>;
  const maxDay = Math.max(1, ...stats.days.map((d) => d.files));
  return (
    <>
      <section aria-labelledby="stores-title">
        <h2 id="stores-title">Stored</h2>
        <div className="stat-cards">
          <div className="card stat" data-testid="total-images">
            <span className="muted">All stores</span>
            <strong className="num">{stats.total_images.toLocaleString()}</strong>
            <span className="num muted">{formatBytes(stats.total_size_bytes)}</span>
          </div>
          {(['s3', 'azure', 'local'] as const).map((s) => (
            <div key={s} className="card stat">
              <span className="muted">{s === 's3' ? 'Amazon S3' : s === 'azure' ? 'Azure Blob' : 'Local disk'}</span>
              <strong className="num">{stats.stores[s].files.toLocaleString()}</strong>
              <span className="num muted">{formatBytes(stats.stores[s].bytes)}</span>
            </div>
          ))}
        </div>
      </section>
      <section className="card" aria-labelledby="days-title">
        <h2 id="days-title">Imports per day</h2>
        {stats.days.length === 0 ? (
          <p className="empty">No imports yet.</p>
        ) : (
          <ul className="chart" aria-label="Files imported per day">
            {stats.days.map((d) => (
              <li key={d.day}>
                <span className="chart-day">{d.day}</span>
                <span className="chart-bar" style={{ width: `${(d.files / maxDay) * 100}%` }} />
                <span className="num">
                  {d.files.toLocaleString()} files · {formatBytes(d.bytes)} · {d.jobs} job{d.jobs === 1 ? '' : 's'}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="perjob-title">
        <h2 id="perjob-title">Per job</h2>
        {stats.jobs.length === 0 ? (
          <p className="empty">No jobs yet.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Status</th>
                  <th scope="col">Store</th>
                  <th scope="col">Files</th>
                  <th scope="col">Bytes</th>
                  <th scope="col">Failed</th>
                </tr>
              </thead>
              <tbody>
                {stats.jobs.map((j) => (
                  <tr key={j.job_id}>
                    <td>
                      <a href={`#/jobs/${j.job_id}`}>{j.job_id.slice(0, 8)}</a> <span className="muted">{new Date(j.created_at).toLocaleDateString()}</span>
                    </td>
                    <td>
                      <StatusBadge status={j.status} />
                    </td>
                    <td>{j.destination}</td>
                    <td className="num">{j.files.toLocaleString()}</td>
                    <td className="num">{formatBytes(j.bytes)}</td>
                    <td className="num">{j.failed.toLocaleString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="activity-title">
        <h2 id="activity-title">Activity</h2>
        {!activity ? <p className="page-state">Loading…</p> : activity.activity.length === 0 ? <p className="empty">Nothing yet.</p> : null}
        <ul className="activity">
          {activity?.activity.map((a) => (
            <li key={a.id}>
              <time className="muted num">{new Date(a.at).toLocaleString()}</time> <strong>{a.actor}</strong> {a.action.replace('.', ' ').replace('_', ' ')}
              {a.job_id ? (
                <>
                  {' '}
                  <a href={`#/jobs/${a.job_id}`}>{a.job_id.slice(0, 8)}</a>
                </>
              ) : null}
              {a.detail ? <span className="muted"> — {a.detail}</span> : null}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
