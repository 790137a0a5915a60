/** Shared helpers for the deployment tests: repo paths, YAML, and the env variables the code reads. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVICES = ['gateway', 'import-service', 'metadata-service', 'storage-service', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every document of a multi-document YAML file, as plain objects (empty documents dropped). */
export function yamlDocs(path: string): Array<Record<string, any>> {
  return parseAllDocuments(read(path))
    .map((d) => {
      if (d.errors.length) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as Record<string, any> | null;
    })
    .filter((d): d is Record<string, any> => d != null);
}

/** `<NAME>_PORT` / `<NAME>_HOST` prefix of a service: worker -> WORKER, import-service -> IMPORT_SERVICE. */
export const envPrefix = (service: string) => service.toUpperCase().replace(/-/g, '_');

/** The non-test .ts files under an absolute directory (generated code and node_modules skipped). */
export function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'generated' || name === 'node_modules') return [];
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Where the running services get their code: the five services plus the shared packages they import. */
const RUNTIME_SOURCE_DIRS = [...SERVICES.map((s) => `${s}/src`), 'packages/common/src', 'packages/drive/src', 'packages/storage/src'];

/**
 * Env variables a service can read, found the way a reviewer would grep for them: keys of the zod
 * env shapes in every config.ts (`NAME: z...` / `NAME: port(...)`) and every `process.env.NAME`.
 */
export function envVarsReadByCode(dirs: string[] = RUNTIME_SOURCE_DIRS): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (name: string, file: string) => found.set(name, [...(found.get(name) ?? []), file.slice(ROOT.length)]);
  for (const dir of dirs) {
    for (const file of tsFiles(join(ROOT, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)) add(m[1]!, file);
      if (file.endsWith('config.ts')) {
        for (const m of text.matchAll(/^\s+([A-Z][A-Z0-9_]{2,}):/gm)) add(m[1]!, file);
      }
    }
  }
  return found;
}

/** The env shape keys of one service's own config.ts (not counting the shared fragments it spreads). */
export function serviceConfigKeys(service: ServiceName): string[] {
  const path = join(ROOT, service, 'src', 'config.ts');
  if (!existsSync(path)) return [];
  return [...readFileSync(path, 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]{2,}):/gm)].map((m) => m[1]!);
}

/** Variable names (`NAME=`) in .env.example, commented-out ones included. */
export function envExampleKeys(): Set<string> {
  return new Set([...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
}
