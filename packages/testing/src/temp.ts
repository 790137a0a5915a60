import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(label = 'drive-import'): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${label}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A unique name for a queue prefix, bucket or database file, so tests never share state. */
export const uniqueName = (label: string) => `${label}-${randomUUID().slice(0, 8)}`.toLowerCase();
