/**
 * Live updates with a fallback: an EventSource while it is open, polling while it is not. A dropped
 * stream is a connection state, never a job state: it only switches the source of updates.
 */
export type LiveMode = 'connecting' | 'push' | 'polling';

export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
  onerror: ((event: Event) => void) | null;
  onopen: ((event: Event) => void) | null;
}

export interface LiveOptions<T> {
  url: string;
  /** One fetch of the current state, used while the stream is down. */
  poll: () => Promise<T[]>;
  onUpdate: (items: T[], via: 'push' | 'poll') => void;
  onMode?: (mode: LiveMode) => void;
  open?: (url: string) => EventSourceLike;
  pollMs?: number;
  /** How long after a drop the stream is tried again. */
  reopenMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export function startLive<T>(options: LiveOptions<T>): () => void {
  const open = options.open ?? ((url) => new EventSource(url) as unknown as EventSourceLike);
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const pollMs = options.pollMs ?? 2000;
  const reopenMs = options.reopenMs ?? 5000;
  let stopped = false;
  let source: EventSourceLike | null = null;
  let pollTimer: unknown = null;
  let reopenTimer: unknown = null;
  let mode: LiveMode | null = null;
  const pushing = () => mode === 'push'; // read fresh: callbacks change `mode` across awaits
  const setMode = (m: LiveMode) => {
    if (m !== mode) options.onMode?.((mode = m));
  };

  const poll = async () => {
    pollTimer = null;
    if (stopped || pushing()) return;
    try {
      options.onUpdate(await options.poll(), 'poll');
    } catch {
      // A failed poll is a connection problem too: try again next round.
    }
    if (!stopped && !pushing()) pollTimer = setTimer(poll, pollMs);
  };

  const connect = () => {
    reopenTimer = null;
    if (stopped) return;
    setMode(mode === 'polling' ? 'polling' : 'connecting');
    const es = open(options.url);
    source = es;
    es.onopen = () => {
      setMode('push');
      if (pollTimer !== null) clearTimer(pollTimer);
      pollTimer = null;
    };
    es.addEventListener('job', (event) => {
      try {
        options.onUpdate([JSON.parse(event.data) as T], 'push');
      } catch {
        // not ours: ignore
      }
    });
    es.onerror = () => {
      // Drop the browser's own reconnect loop: poll now, and try the stream again later.
      es.close();
      if (source === es) source = null;
      setMode('polling');
      if (pollTimer === null) void poll();
      if (reopenTimer === null && !stopped) reopenTimer = setTimer(connect, reopenMs);
    };
  };

  connect();
  return () => {
    stopped = true;
    source?.close();
    if (pollTimer !== null) clearTimer(pollTimer);
    if (reopenTimer !== null) clearTimer(reopenTimer);
  };
}
