import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, getSession, type Session, signIn, signOut } from './api.ts';
import { JobDetail } from './views/JobDetail.tsx';
import { Imports } from './views/Imports.tsx';
import { Gallery } from './views/Gallery.tsx';
import { Usage } from './views/Usage.tsx';

/** `#/` (import and jobs) or `#/jobs/<id>`. A `#signin=<token>` link (npm start's) signs in once. */
function useRoute(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#/, '') || '/';
}

export function App() {
  const [session, setSession] = useState<Session | null | 'loading'>('loading');
  const [error, setError] = useState<string | null>(null);
  const route = useRoute();

  const load = useCallback(async () => {
    try {
      setSession(await getSession());
    } catch (err) {
      setSession(null);
      if (!(err instanceof ApiError && err.status === 401)) setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    const link = /^#signin=(.+)$/.exec(location.hash);
    if (link) {
      history.replaceState(null, '', location.pathname); // the token leaves the address bar at once
      signIn(decodeURIComponent(link[1]!)).then(load, (err: Error) => {
        setSession(null);
        setError(err.message);
      });
    } else void load();
  }, [load]);

  if (session === 'loading') return <p className="page-state" role="status">Loading…</p>;
  if (!session) return <SignIn error={error} onSignedIn={load} />;

  const jobMatch = /^\/jobs\/([0-9a-f-]{36})$/i.exec(route);
  return (
    <>
      <header className="top">
        <a className="brand" href="#/">drive-import</a>
        <nav aria-label="Main">
          <a href="#/" aria-current={route === '/' ? 'page' : undefined}>Imports</a>
          <a href="#/gallery" aria-current={route === '/gallery' ? 'page' : undefined}>Gallery</a>
          <a href="#/usage" aria-current={route === '/usage' ? 'page' : undefined}>Usage</a>
        </nav>
        <span className="who">
          {session.name}
          {session.admin ? ' (admin)' : ''}
          <button
            type="button"
            className="link"
            onClick={async () => {
              await signOut();
              setSession(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>{jobMatch ? <JobDetail id={jobMatch[1]!.toLowerCase()} /> : route === '/gallery' ? <Gallery /> : route === '/usage' ? <Usage /> : <Imports session={session} />}</main>
    </>
  );
}

function SignIn({ error, onSignedIn }: { error: string | null; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [message, setMessage] = useState(error);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await signIn(token.trim());
      onSignedIn();
    } catch (err) {
      setMessage((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>drive-import</h1>
      <form onSubmit={submit} className="card">
        <label htmlFor="token">API token</label>
        <p className="hint" id="token-hint">
          From <code>npm run token -- create &lt;name&gt;</code>, or the link <code>npm start</code> printed.
        </p>
        <input id="token" type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)} aria-describedby="token-hint sign-in-error" />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p id="sign-in-error" className="error" role="alert">
          {message}
        </p>
      </form>
    </main>
  );
}
