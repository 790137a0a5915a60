#!/usr/bin/env node
// Copies what one service needs at runtime out of the full install, for its image:
//   node ops/images/runtime-deps.mjs <workspace dir> <out dir>
// The bundle (<dir>/dist/main.js, `npm run build`) holds the project's own code; npm packages stay
// external. So the service needs the npm packages the bundle imports plus those its workspace and the
// @drive-import workspaces it uses list as production dependencies (some load by name at runtime,
// like pino's transports), and theirs, found the way Node finds them (nearest node_modules up the
// tree). Each one is copied once, without typings, source maps or Markdown; dev dependencies, other
// services' dependencies and the workspaces themselves stay out.
import { builtinModules } from 'node:module';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node ops/images/runtime-deps.mjs <workspace dir> <out dir>');
  process.exit(2);
}
const root = process.cwd();
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

const workspaces = new Map();
for (const w of readJson(join(root, 'package.json')).workspaces) workspaces.set(readJson(join(root, w, 'package.json')).name, w);

// The service's workspace and every workspace it depends on: their npm dependencies are the roots.
const roots = [];
const seenWorkspaces = new Set();
const pendingWorkspaces = [dir];
while (pendingWorkspaces.length > 0) {
  const w = pendingWorkspaces.pop();
  if (seenWorkspaces.has(w)) continue;
  seenWorkspaces.add(w);
  for (const name of Object.keys(readJson(join(root, w, 'package.json')).dependencies ?? {})) {
    if (workspaces.has(name)) pendingWorkspaces.push(workspaces.get(name));
    else roots.push({ name, from: join(root, w), optional: false });
  }
}

// What the bundle itself imports (static, dynamic and esbuild's require shim), by package name.
const bundle = readFileSync(join(root, dir, 'dist', 'main.js'), 'utf8');
const specifiers = new Set();
const importPattern = /(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*["']([^"'\s]+)["']/g;
for (const m of bundle.matchAll(importPattern)) if (!/^[./]/.test(m[1])) specifiers.add(m[1]);
const builtins = new Set(builtinModules);
for (const spec of specifiers) {
  if (spec.startsWith('node:') || builtins.has(spec.split('/')[0])) continue;
  const name = spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
  if (!workspaces.has(name)) roots.push({ name, from: join(root, dir), optional: false });
}

/**
 * Parts of packages a service never loads, too big to ship: better-sqlite3's build tree and SQLite
 * sources (it loads build/Release/better_sqlite3.node), and Prisma's query compilers for the
 * databases the bundle does not import (one per provider and size, each a few MB).
 */
function unused(pkgRel, fileRel) {
  if (pkgRel === join('node_modules', 'better-sqlite3')) {
    if (fileRel === 'deps' || fileRel === 'src' || fileRel === 'binding.gyp') return true;
    return fileRel.startsWith(`build${sep}`) && fileRel !== join('build', 'Release') && fileRel !== join('build', 'Release', 'better_sqlite3.node');
  }
  if (pkgRel === join('node_modules', '@prisma', 'client')) {
    const file = /^runtime[\\/]((?:query_compiler|wasm-compiler)[^\\/]*)$/.exec(fileRel)?.[1];
    return file !== undefined && !specifiers.has(`@prisma/client/runtime/${file}`);
  }
  return false;
}

/** Node's lookup: <from>/node_modules/<name>, then each parent's, up to the root. */
function locate(name, from) {
  for (let at = from; at.startsWith(root); at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (at === root) break;
  }
  return undefined;
}

const copied = new Set();
const pending = [...roots];
const skip = /(\.d\.[cm]?ts|\.map|\.md|\.markdown)$/i;
while (pending.length > 0) {
  const { name, from, optional } = pending.pop();
  const found = locate(name, from);
  if (!found) {
    // Optional and peer dependencies for other platforms (or not wanted) are simply not installed.
    if (optional) continue;
    console.error(`${name} (needed from ${relative(root, from) || '.'}) is not installed`);
    process.exit(1);
  }
  if (copied.has(found)) continue;
  copied.add(found);
  const rel = relative(root, found);
  cpSync(found, join(out, rel), {
    recursive: true,
    dereference: false,
    // Nested node_modules are packages of their own: copied when something needs them.
    filter: (src) => !skip.test(src) && !relative(found, src).split(sep).includes('node_modules') && !unused(rel, relative(found, src)),
  });
  const manifest = readJson(join(found, 'package.json'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) pending.push({ name: dep, from: found, optional: false });
  for (const dep of Object.keys(manifest.optionalDependencies ?? {})) pending.push({ name: dep, from: found, optional: true });
  // Peers the package cannot run without; optional ones (typescript, the Prisma CLI ...) stay out.
  for (const dep of Object.keys(manifest.peerDependencies ?? {})) {
    if (!manifest.peerDependenciesMeta?.[dep]?.optional) pending.push({ name: dep, from: found, optional: true });
  }
}
mkdirSync(out, { recursive: true });
console.log(`${relative(root, resolve(dir))}: ${copied.size} packages for runtime`);
