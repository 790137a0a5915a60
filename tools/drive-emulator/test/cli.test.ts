import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('the CLI prints one JSON line when ready, serves, applies faults and stops on SIGTERM', async () => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--files', '30', '--depth', '2', '--image-bytes', '5000', '--seed', '1', '--quota-per-second', '1000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as Record<string, unknown>);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    assert.equal(ready.images, 30);
    assert.match(String(ready.url), /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(ready.folder_url, `https://drive.google.com/drive/folders/${ready.root_id}`);
    const faults = (await (await fetch(`${ready.url}__emulator/faults`)).json()) as Record<string, unknown>;
    assert.equal(faults.quotaPerSecond, 1000);
    const tree = (await (await fetch(`${ready.url}__emulator/tree`)).json()) as Record<string, unknown>;
    assert.equal(tree.rootId, ready.root_id);
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});
