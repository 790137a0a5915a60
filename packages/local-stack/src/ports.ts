import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Where the OS hands out ephemeral ports for outgoing connections (Linux: 32768-60999). A port
 * chosen from that range can be taken by any client socket (a Redis or HTTP connection) between
 * the moment it is found free and the moment a service listens on it: EADDRINUSE. So ports are
 * picked below it.
 */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && low > 2048) return low;
  } catch {
    // not Linux: fall through
  }
  return 32768;
}
const PICK_LOW = 10_000;
const PICK_HIGH = ephemeralLow() - 1;

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

/** A free TCP port on 127.0.0.1, outside the ephemeral range when there is room below it. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; PICK_HIGH > PICK_LOW && attempt < 50; attempt++) {
    const port = await tryListen(PICK_LOW + Math.floor(Math.random() * (PICK_HIGH - PICK_LOW)));
    if (port) return port;
  }
  const port = await tryListen(0);
  if (!port) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

/** Wait until `probe` resolves truthy, polling; throws with `what` after the timeout. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
