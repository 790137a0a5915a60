/** The gateway's API as the page uses it: the session cookie signs every call in. */
import type { FileListResponse, JobListResponse, JobSummary } from '../../packages/common/src/contracts.ts';

export type { JobSummary };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, {
    ...init,
    credentials: 'same-origin',
    headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) },
  });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!res.ok) throw new ApiError(res.status, body?.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

export interface Session {
  name: string;
  admin: boolean;
  destinations?: string[];
  default_destination?: string;
  demo_folder_url?: string | null;
}

export const getSession = () => api<Session>('/api/session');
export const signIn = (token: string) => api<Session>('/api/session', { method: 'POST', body: JSON.stringify({ token }) });
export const signOut = () => api<void>('/api/session', { method: 'DELETE' });
export const listJobs = () => api<JobListResponse>('/api/import/jobs?per_page=50');
export const getJob = (id: string) => api<JobSummary>(`/api/import/status/${id}`);
export const listFailed = (id: string, cursor?: string) =>
  api<FileListResponse>(`/api/import/jobs/${id}/files?status=failed&per_page=50${cursor ? `&cursor=${cursor}` : ''}`);
export const control = (id: string, action: 'retry' | 'cancel' | 'pause' | 'resume') => api<JobSummary>(`/api/import/jobs/${id}/${action}`, { method: 'POST' });
