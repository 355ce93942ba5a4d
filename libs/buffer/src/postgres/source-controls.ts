import { ClientBase, Pool } from 'pg';

/** An operator's pause of a whole source: its `pipeline_controls` row with no table, paused. */
export interface OperatorPause {
  /** The operator's text; undefined when none was given. */
  readonly reason?: string;
}

/**
 * The operator's pause of `sourceId`, or undefined when it is not paused (no row, or `paused` false).
 * Rows with a table id pause one table for the writers; the reader ignores them. One lookup in the
 * unique index `pipeline_controls_scope`, cheap enough to poll.
 */
export async function operatorPauseOf(db: ClientBase | Pool, sourceId: string): Promise<OperatorPause | undefined> {
  const { rows } = await db.query<{ reason: string | null }>(
    'SELECT reason FROM pipeline_controls WHERE source_id = $1 AND coalesce(table_id, 0) = 0 AND table_id IS NULL AND paused',
    [sourceId],
  );
  if (rows.length === 0) return undefined;
  const reason = rows[0].reason?.trim();
  return reason ? { reason } : {};
}

/** The payload of a NOTIFY on CONTROL_CHANNEL: `{"s":"<source id>"}`. */
export function encodeControlNotice(sourceId: string): string {
  return JSON.stringify({ s: sourceId });
}

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a notice stays well below. */
const NOTICE_BYTES = 7_000;

/**
 * The notices that wake the writers of `tableIds` (replays to apply first): `{"s":…,"t":[…]}`,
 * as many as it takes to keep each under NOTIFY's payload limit (a bulk replay may span
 * thousands of tables).
 */
export function encodeTableNotices(sourceId: string, tableIds: readonly number[]): string[] {
  const notices: string[] = [];
  let chunk: number[] = [];
  const encode = (ids: readonly number[]): string => JSON.stringify({ s: sourceId, t: ids });
  for (const id of tableIds) {
    chunk.push(id);
    if (Buffer.byteLength(encode(chunk)) > NOTICE_BYTES && chunk.length > 1) {
      chunk.pop();
      notices.push(encode(chunk));
      chunk = [id];
    }
  }
  if (chunk.length > 0) notices.push(encode(chunk));
  return notices;
}

/** The source a control notice names; undefined for a payload this version does not understand. */
export function controlNoticeSource(payload: string | undefined): string | undefined {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as { s?: unknown };
    return typeof parsed.s === 'string' ? parsed.s : undefined;
  } catch {
    return undefined;
  }
}
