/**
 * An HTTP proxy with switchable faults, put in front of a real server (s3rver, the Drive emulator)
 * by pointing a client's endpoint at it: answer an error to writes for a while, hold requests
 * without ever answering (the client's timeout must fire), or let a response body stop half way.
 * Everything else is forwarded unchanged, one upstream request per client request.
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RefuseFault {
  /** Methods answered with `status` (default PUT and POST: writes). */
  methods?: string[];
  /** Default 503. */
  status?: number;
  /** How long (default: until clear()). */
  forMs?: number;
}

export interface HoldFault {
  /** Methods held (default all). */
  methods?: string[];
  /** How long requests are held; when it ends the held sockets are destroyed (default: until clear()). */
  forMs?: number;
}

export interface StallFault {
  /** Which requests' response bodies stall (default all). */
  match?: (method: string, url: string) => boolean;
  /** How many bodies stall; then the fault is spent. */
  count: number;
  /** The part of the body sent before it stops (default 0.5). */
  fraction?: number;
}

export interface FaultProxyStats {
  forwarded: number;
  refused: number;
  held: number;
  stalled: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  refuse(fault: RefuseFault): void;
  hold(fault: HoldFault): void;
  stall(fault: StallFault): void;
  /** Every fault off; held and stalled connections are destroyed. */
  clear(): void;
  stats(): FaultProxyStats;
  close(): Promise<void>;
}

interface Active<T> {
  fault: T;
  until: number;
}

const live = <T>(a: Active<T> | null): a is Active<T> => a !== null && Date.now() < a.until;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let refusing: Active<RefuseFault> | null = null;
  let holding: Active<HoldFault> | null = null;
  let stalling: (StallFault & { left: number }) | null = null;
  const stats: FaultProxyStats = { forwarded: 0, refused: 0, held: 0, stalled: 0 };
  /** Connections kept open without an answer (held) or with half a body (stalled). */
  const parked = new Set<Socket>();
  let holdTimer: NodeJS.Timeout | undefined;

  const releaseParked = () => {
    for (const s of parked) s.destroy();
    parked.clear();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    if (live(refusing) && (refusing.fault.methods ?? ['PUT', 'POST']).includes(method)) {
      stats.refused++;
      req.resume();
      const status = refusing.fault.status ?? 503;
      const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>fault proxy: refusing ${method}</Message></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body);
      return;
    }
    if (live(holding) && (holding.fault.methods ?? [method]).includes(method)) {
      stats.held++;
      req.resume(); // read and drop the body: the client thinks it was sent and waits for an answer
      parked.add(req.socket);
      req.socket.once('close', () => parked.delete(req.socket));
      return;
    }
    const stall = stalling && stalling.left > 0 && (stalling.match?.(method, req.url ?? '/') ?? true) ? stalling : null;
    if (stall) stall.left--;
    stats.forwarded++;
    const up = httpRequest(
      { host: upstream.hostname, port: upstream.port, method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
        if (!stall) {
          upRes.pipe(res);
          return;
        }
        // Send `fraction` of the body (by its announced length), then nothing more, ever.
        stats.stalled++;
        const length = Number(upRes.headers['content-length'] ?? 0);
        let budget = Math.floor(length * (stall.fraction ?? 0.5));
        parked.add(req.socket);
        req.socket.once('close', () => parked.delete(req.socket));
        upRes.on('data', (chunk: Buffer) => {
          if (budget <= 0) return;
          res.write(chunk.subarray(0, budget));
          budget -= chunk.length;
        });
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    refuse: (fault) => {
      refusing = { fault, until: Date.now() + (fault.forMs ?? Infinity) };
    },
    hold: (fault) => {
      holding = { fault, until: Date.now() + (fault.forMs ?? Infinity) };
      clearTimeout(holdTimer);
      if (fault.forMs !== undefined) holdTimer = setTimeout(releaseParked, fault.forMs);
    },
    stall: (fault) => {
      stalling = { ...fault, left: fault.count };
    },
    clear: () => {
      refusing = null;
      holding = null;
      stalling = null;
      clearTimeout(holdTimer);
      releaseParked();
    },
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(holdTimer);
        releaseParked();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
