/**
 * Ports for the services a stack starts: never from the range the OS hands to outgoing
 * connections, where a client socket opened in the meantime takes the port (EADDRINUSE at listen:
 * the failure CI saw on the full-disk chaos row).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../src/ports.ts';

test('freePort: below the ephemeral range, free, and not the same twice in a row', async (t) => {
  let low: number;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    t.skip('no /proc/sys/net/ipv4/ip_local_port_range (not Linux)');
    return;
  }
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    assert.ok(port < low, `${port} is in the ephemeral range (from ${low})`);
    ports.add(port);
    // It is free: a server can listen on it.
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
  assert.ok(ports.size >= 18, 'ports are spread, not one reused');
});
