// The live page: start an import, then poll the gateway's status route every second.
const $ = (id) => document.getElementById(id);
let current = new URLSearchParams(location.search).get('job');

const fmtBytes = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`);
const pct = (job) => (job.total ? Math.round(((job.processed + job.failed) / job.total) * 100) : job.listing_complete ? 100 : 0);
const el = (tag, text, cls) => Object.assign(document.createElement(tag), { textContent: text, className: cls ?? '' });

// The API wants a bearer token; it is kept for this tab only.
let token = sessionStorage.getItem('drive-import-token');
function showSignIn(message) {
  $('sign-in').hidden = false;
  $('signed-in').hidden = true;
  $('sign-in-message').textContent = message ?? '';
}
$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token').value.trim();
  sessionStorage.setItem('drive-import-token', token);
  $('sign-in').hidden = true;
  $('signed-in').hidden = false;
  refresh();
});
$('sign-out').addEventListener('click', () => {
  token = null;
  sessionStorage.removeItem('drive-import-token');
  showSignIn();
});

async function api(path, init = {}) {
  if (!token) {
    showSignIn();
    throw new Error('Sign in with an API token first');
  }
  const res = await fetch(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) showSignIn(body?.error?.message);
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

$('import-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const message = $('form-message');
  message.className = '';
  message.textContent = 'Checking the folder…';
  const body = { folder_url: $('folder-url').value.trim() };
  if ($('destination').value) body.destination = $('destination').value;
  try {
    const job = await api('/api/import/google-drive', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    message.textContent = job.message;
    select(job.job_id);
  } catch (err) {
    message.className = 'error';
    message.textContent = err.message;
  }
});

function select(jobId) {
  current = jobId;
  history.replaceState(null, '', `?job=${jobId}`);
  refresh();
}

function renderJob(job) {
  $('job').hidden = false;
  $('job-title').textContent = `${job.folder_name ?? job.folder_id} — ${job.status.replaceAll('_', ' ')}`;
  $('job-bar').style.width = `${pct(job)}%`;
  const stats = [
    ['Found', `${job.total}${job.listing_complete ? '' : '…'}`],
    ['Stored', job.processed],
    ['Skipped', job.skipped],
    ['Failed', job.failed],
    ['Bytes', `${fmtBytes(job.bytes_done)} / ${fmtBytes(job.bytes_total)}`],
    ['Destination', job.destination],
  ];
  $('job-stats').replaceChildren(...stats.flatMap(([k, v]) => [el('dt', k), el('dd', String(v))]));
  $('job-imported').replaceChildren(...job.imported.slice(0, 50).map((f) => el('li', `${f.storage_key} (${fmtBytes(f.size ?? 0)})`)));
  $('job-errors').replaceChildren(...(job.errors.length ? job.errors.map((f) => el('li', `${f.folder_path}/${f.name}: ${f.error}`)) : [el('li', 'none')]));
}

function renderJobs(list) {
  $('jobs').replaceChildren(
    ...list.jobs.map((job) => {
      const tr = document.createElement('tr');
      const bar = el('div', '', 'bar small');
      bar.append(Object.assign(el('div', ''), { style: `width:${pct(job)}%` }));
      const progress = document.createElement('td');
      progress.append(bar, ` ${pct(job)}%`);
      const status = document.createElement('td');
      status.append(el('span', job.status.replaceAll('_', ' '), `status ${job.status}`));
      tr.append(el('td', job.folder_name ?? job.folder_id), status, progress, el('td', String(job.total)), el('td', String(job.failed)), el('td', new Date(job.created_at).toLocaleString()));
      tr.addEventListener('click', () => select(job.job_id));
      return tr;
    }),
  );
}

async function refresh() {
  try {
    renderJobs(await api('/api/import/jobs?per_page=20'));
    if (current) renderJob(await api(`/api/import/status/${current}`));
  } catch (err) {
    $('form-message').textContent = err.message;
  }
}

if (token) $('signed-in').hidden = false;
refresh();
setInterval(() => token && refresh(), 1000);
