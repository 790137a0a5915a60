// Build the web app (npm run build -w @drive-import/frontend) when frontend/dist is missing or older
// than its sources; otherwise do nothing. Used by npm start and the browser tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = fileURLToPath(new URL('..', import.meta.url));
const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  return t;
};
const sources = Math.max(newest(join(frontend, 'src')), ...['index.html', 'vite.config.ts', 'package.json'].map((f) => statSync(join(frontend, f)).mtimeMs));
const dist = join(frontend, 'dist', 'index.html');
if (!existsSync(dist) || statSync(dist).mtimeMs < sources) {
  // NODE_ENV=test (a test runner's) would build React's development bundle.
  const built = spawnSync('npm', ['run', 'build'], { cwd: frontend, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  process.exit(built.status ?? 1);
}
