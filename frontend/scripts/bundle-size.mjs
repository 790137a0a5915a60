// The built bundle's size, gzipped; the build fails past the budget (250 KB).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 250 * 1024;
// fileURLToPath, not .pathname: a checkout under "new comer ü" would be percent-encoded.
const dir = fileURLToPath(new URL('../dist/assets/', import.meta.url));
let total = 0;
for (const name of readdirSync(dir)) {
  if (!/\.(js|css)$/.test(name)) continue;
  total += gzipSync(readFileSync(join(dir, name)), { level: 9 }).length;
}
console.log(`bundle: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error('bundle over budget');
  process.exit(1);
}
