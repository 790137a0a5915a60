import { useVirtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { BulkDeleteResponse, ImageListResponse, ImageRecord } from '../../../packages/common/src/contracts.ts';
import { api } from '../api.ts';
import { formatBytes } from '../lib/progress.ts';

const TILE = 168; // px, thumbnail tile incl. gap
const PAGE = 120;

interface Filters {
  job_id: string;
  folder: string;
  mime: string;
  q: string;
}

const query = (f: Filters, cursor: string | null) => {
  const p = new URLSearchParams({ per_page: String(PAGE), sort: '-created_at' });
  for (const [k, v] of Object.entries(f)) if (v.trim()) p.set(k, v.trim());
  if (cursor) p.set('cursor', cursor);
  return `/api/images?${p}`;
};

export function Gallery({ jobIdFilter }: { jobIdFilter?: string }) {
  const [filters, setFilters] = useState<Filters>({ job_id: jobIdFilter ?? '', folder: '', mime: '', q: '' });
  const [draft, setDraft] = useState(filters);
  const [images, setImages] = useState<ImageRecord[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [viewing, setViewing] = useState<ImageRecord | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const generation = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);
  const [columns, setColumns] = useState(4);

  const loadMore = useCallback(
    async (reset = false) => {
      const gen = reset ? ++generation.current : generation.current;
      setLoading(true);
      try {
        const page = await api<ImageListResponse>(query(filters, reset ? null : cursor));
        if (gen !== generation.current) return;
        setImages((old) => (reset ? page.images : old.concat(page.images)));
        setTotal(page.total);
        setCursor(page.next_cursor);
        setDone(page.next_cursor === null);
        setError(null);
      } catch (err) {
        if (gen === generation.current) setError((err as Error).message);
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [filters, cursor],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter starts over
  useEffect(() => {
    setSelected(new Set());
    void loadMore(true);
  }, [filters]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setColumns(Math.max(2, Math.floor(el.clientWidth / TILE)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const rows = Math.ceil(images.length / columns);
  const virtualizer = useVirtualizer({ count: rows, getScrollElement: () => scroller.current, estimateSize: () => TILE, overscan: 3 });
  const items = virtualizer.getVirtualItems();
  const lastRow = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (!loading && !done && !error && lastRow >= rows - 2) void loadMore();
  }, [lastRow, rows, loading, done, error, loadMore]);

  const toggle = (id: string) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const deleteSelected = async () => {
    const ids = [...selected];
    if (!ids.length || !confirm(`Delete ${ids.length} image${ids.length > 1 ? 's' : ''} from the store and the catalog?`)) return;
    try {
      const res = await api<BulkDeleteResponse>('/api/images/bulk-delete', { method: 'POST', body: JSON.stringify({ ids }) });
      setNotice(`Deleted ${res.deleted}${res.store_error ? `, ${res.store_error} could not be deleted` : ''}.`);
      const gone = new Set(res.results.filter((r) => r.result !== 'store_error').map((r) => r.id));
      setImages((old) => old.filter((i) => !gone.has(i.id)));
      setTotal((t) => (t === null ? t : t - res.deleted));
      setSelected(new Set());
    } catch (err) {
      setNotice(`Delete failed: ${(err as Error).message}`);
    }
  };

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };

  return (
    <>
      <form className="card filters" onSubmit={apply} aria-label="Filter images">
        <div>
          <label htmlFor="f-q">Name</label>
          <input id="f-q" type="search" value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} placeholder="IMG_" />
        </div>
        <div>
          <label htmlFor="f-folder">Folder</label>
          <input id="f-folder" value={draft.folder} onChange={(e) => setDraft({ ...draft, folder: e.target.value })} placeholder="Trips/2026" />
        </div>
        <div>
          <label htmlFor="f-mime">Type</label>
          <select id="f-mime" value={draft.mime} onChange={(e) => setDraft({ ...draft, mime: e.target.value })}>
            <option value="">Any</option>
            <option value="image/jpeg">JPEG</option>
            <option value="image/png">PNG</option>
            <option value="image/heic">HEIC</option>
            <option value="image/webp">WebP</option>
            <option value="image/gif">GIF</option>
          </select>
        </div>
        <div>
          <label htmlFor="f-job">Job id</label>
          <input id="f-job" value={draft.job_id} onChange={(e) => setDraft({ ...draft, job_id: e.target.value })} placeholder="any job" />
        </div>
        <button type="submit">Filter</button>
      </form>
      <div className="section-head">
        <h2>
          Gallery <span className="num muted">{total === null ? '' : `· ${total.toLocaleString()} images`}</span>
        </h2>
        <div className="actions">
          <span className="num muted" aria-live="polite">
            {selected.size ? `${selected.size} selected` : ''}
          </span>
          <button type="button" className="danger" disabled={!selected.size} onClick={deleteSelected}>
            Delete selected
          </button>
        </div>
      </div>
      <p className="notice" role="status">
        {notice}
      </p>
      {error ? (
        <p className="error" role="alert">
          Could not load images: {error}{' '}
          <button type="button" onClick={() => loadMore(images.length === 0)}>
            Try again
          </button>
        </p>
      ) : null}
      {!error && !loading && images.length === 0 ? <p className="empty">No images{Object.values(filters).some((v) => v) ? ' match these filters' : ' yet: import a folder first'}.</p> : null}
      <div className="grid-scroll" ref={scroller}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((row) => (
            <div key={row.key} className="grid-row" style={{ transform: `translateY(${row.start}px)`, gridTemplateColumns: `repeat(${columns}, 1fr)` }}>
              {images.slice(row.index * columns, row.index * columns + columns).map((img) => (
                <figure key={img.id} className={`tile${selected.has(img.id) ? ' selected' : ''}`}>
                  <button type="button" className="thumb" onClick={() => setViewing(img)} aria-label={`Open ${img.name}`}>
                    <img src={img.thumbnail_url ?? img.url} alt="" loading="lazy" width={150} height={120} />
                  </button>
                  <figcaption>
                    <input type="checkbox" checked={selected.has(img.id)} onChange={() => toggle(img.id)} aria-label={`Select ${img.name}`} />
                    <span title={img.name}>{img.name}</span>
                  </figcaption>
                </figure>
              ))}
            </div>
          ))}
        </div>
        {loading ? <p className="page-state">Loading images…</p> : null}
      </div>
      {viewing ? <Viewer image={viewing} onClose={() => setViewing(null)} /> : null}
    </>
  );
}

function Viewer({ image, onClose }: { image: ImageRecord; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const rows: [string, string][] = [
    ['Name', image.name],
    ['Drive path', `${image.folder_path ? `${image.folder_path}/` : ''}${image.name}`],
    ['Size', image.size === null ? '—' : formatBytes(image.size)],
    ['Dimensions', image.width && image.height ? `${image.width} × ${image.height}` : '—'],
    ['Taken', image.taken_at ?? '—'],
    ['Camera', [image.camera_make, image.camera_model].filter(Boolean).join(' ') || '—'],
    ['Store', image.destination],
    ['Key', image.storage_key],
  ];
  return (
    <dialog ref={dialog} className="viewer" onClose={onClose} aria-labelledby="viewer-title">
      <div className="viewer-head">
        <h2 id="viewer-title">{image.name}</h2>
        <button type="button" onClick={() => dialog.current?.close()} autoFocus>
          Close
        </button>
      </div>
      <div className="viewer-body">
        <img src={image.url} alt={image.name} className="original" />
        <dl className="meta-list">
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      </div>
    </dialog>
  );
}
