import type { JobSummary } from '../api.ts';
import { byteFraction, etaSeconds, fileFraction, formatBytes, formatDuration, percent, type RateMeter, TERMINAL } from '../lib/progress.ts';

export const STATUS_LABEL: Record<string, string> = {
  queued: 'Queued',
  listing: 'Listing',
  processing: 'Copying',
  paused: 'Paused',
  completed: 'Done',
  completed_with_errors: 'Done with errors',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function Progress({ label, fraction, text }: { label: string; fraction: number; text: string }) {
  return (
    <div className="progress">
      <div className="progress-label">
        <span>{label}</span>
        <span className="num">{text}</span>
      </div>
      <div className="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(fraction * 100)}>
        <div className="fill" style={{ width: `${fraction * 100}%` }} />
      </div>
    </div>
  );
}

export function JobProgress({ job, meter }: { job: JobSummary; meter?: RateMeter }) {
  const rate = meter?.rate() ?? null;
  const eta = etaSeconds(job, rate?.files ?? null);
  const ended = TERMINAL.has(job.status);
  return (
    <>
      <Progress label="Files" fraction={fileFraction(job)} text={`${(job.processed + job.failed).toLocaleString()} / ${job.listing_complete ? job.total.toLocaleString() : `${job.total.toLocaleString()}+`} · ${percent(fileFraction(job))}`} />
      <Progress label="Bytes" fraction={byteFraction(job)} text={`${formatBytes(job.bytes_done)} / ${formatBytes(job.bytes_total)}`} />
      <dl className="counts">
        <div>
          <dt>Done</dt>
          <dd className="num">{(job.processed - job.skipped).toLocaleString()}</dd>
        </div>
        <div>
          <dt>Skipped</dt>
          <dd className="num">{job.skipped.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd className={`num${job.failed ? ' bad' : ''}`}>{job.failed.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd className="num">{rate && !ended ? `${rate.files.toFixed(1)} files/s` : '—'}</dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd className="num">{rate && !ended ? `${formatBytes(Math.max(0, Math.round(rate.bytes)))}/s` : '—'}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd className="num">{formatDuration(eta)}</dd>
        </div>
      </dl>
    </>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{STATUS_LABEL[status] ?? status}</span>;
}
