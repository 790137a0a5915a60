/**
 * The activity log: who (a token's name, or "system") did what to which job, when. Job events are
 * written in the same transaction as the change they record; the gateway adds what only it sees
 * (image deletes, counted once per request however many rows they touch).
 */
import { type ActivityListQuery, type ActivityListResponse, type ActivityRecord, clipText } from '@drive-import/common';
import type { Db, Tx } from './db.ts';

export type ActivityEntry = Omit<ActivityRecord, 'id' | 'at'>;

export async function recordActivity(tx: Tx, entry: ActivityEntry, at = new Date()): Promise<void> {
  await tx.activity.create({ data: { at, actor: entry.actor, action: entry.action, jobId: entry.job_id, detail: entry.detail === null ? null : clipText(entry.detail, 2000) } });
}

/** Newest first, by keyset on the id (`cursor` = the last id shown); a non-admin sees only its own. */
export async function listActivity(db: Db, q: ActivityListQuery, actor?: string): Promise<ActivityListResponse> {
  const rows = await db.read.activity.findMany({
    where: { ...(actor === undefined ? {} : { actor }), ...(q.cursor ? { id: { lt: Number(q.cursor) } } : {}) },
    orderBy: { id: 'desc' },
    take: q.per_page + 1,
  });
  const more = rows.length > q.per_page;
  const page = more ? rows.slice(0, q.per_page) : rows;
  return {
    activity: page.map((r) => ({ id: String(r.id), at: r.at.toISOString(), actor: r.actor, action: r.action as ActivityRecord['action'], job_id: r.jobId, detail: r.detail })),
    per_page: q.per_page,
    next_cursor: more ? String(page[page.length - 1]!.id) : null,
  };
}
