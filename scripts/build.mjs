#!/usr/bin/env node
// Compiles each service to one JavaScript file, <service>/dist/main.js, so production (npm start,
// the container images, the benchmark) runs plain `node` instead of tsx compiling TypeScript at every
// start. The project's own TypeScript (the service and the @drive-import/* packages it imports) is
// bundled; npm packages stay external and load from node_modules as in development. Then the web
// app (frontend/dist). Usage: npm run build [-- --services-only]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** Each bundle sits two levels below the root, as its sources do, so `new URL('../../x', import.meta.url)` means the same in both. */
export const SERVICES = ['gateway', 'import-service', 'metadata-service', 'storage-service', 'worker', 'tools/drive-emulator'];

/** Bare imports stay imports (node_modules), but for the workspace's own TypeScript packages. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@drive-import/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const started = performance.now();
await Promise.all(
  SERVICES.map((dir) =>
    build({
      absWorkingDir: root,
      entryPoints: [`${dir}/src/main.ts`],
      outfile: `${dir}/dist/main.js`,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      legalComments: 'none',
      logLevel: 'warning',
      define: { __DRIVE_IMPORT_VERSION__: JSON.stringify(version) },
      plugins: [externalPackages],
    }),
  ),
);
console.log(`built ${SERVICES.map((s) => `${s}/dist/main.js`).join(', ')} in ${Math.round(performance.now() - started)} ms`);

if (!process.argv.includes('--services-only')) {
  const frontend = spawnSync('npm', ['run', 'build', '-w', '@drive-import/frontend'], { cwd: root, stdio: 'inherit' });
  if (frontend.status !== 0) process.exit(frontend.status ?? 1);
}
