import { ClientBase, Pool } from 'pg';
import { LockSpace, withPoolClient } from '@philotes/db';
import { ColumnSchema } from '@philotes/events';
import { JsonValue } from '@philotes/pg-types';
import { formatLsn, parseLsn, pgMicrosOfTimestamptz, timestamptzOfPgMicros } from '@philotes/pgoutput';
import { DecodedEvent, Position } from '../event-forms';
import { DEAD_LETTER_MOVES, DeadLetterFilter, DeadLetterMoveName, DeadLetterStatus, OPEN_STATUSES, SETTLED_STATUSES } from '../dead-letter-model';
import { DeadLetterPage, DeadLetterSummary } from '../dead-letter-views';

export interface DeadLetter {
  readonly change: DecodedEvent;
  readonly kind: string;
  readonly message: string;
  readonly attempts: number;
  /** The row key (upsert tables), so a later change of the key can supersede the letter. */
  readonly key?: string;
  /** Born superseded: a later change of its key in the same commit was written. */
  readonly superseded?: boolean;
}

/** A dead letter not settled yet: waiting for an operator ('pending') or for the writer ('replaying'). */
export interface OpenDeadLetter {
  readonly id: string;
  readonly status: 'pending' | 'replaying';
  readonly key?: string;
  readonly position: Position;
}

/** A dead letter an operator asked to replay, as stored (the event whole). */
export interface StoredDeadLetter {
  readonly id: string;
  readonly position: Position;
  readonly op: DecodedEvent['op'];
  readonly xid: number | null;
  /** PostgreSQL-epoch microseconds. */
  readonly commitTime: bigint;
  readonly schemaVersion: number;
  readonly payload: Buffer;
}

/** How a replay ended for one letter. 'failed' puts it back to pending with the new error. */
export type ReplayOutcome =
  | { readonly id: string; readonly outcome: 'replayed' }
  | { readonly id: string; readonly outcome: 'superseded' }
  | { readonly id: string; readonly outcome: 'failed'; readonly kind: string; readonly message: string };

/** Port: where events that can never be written go, with what went wrong, and how they come back (the writer's side). */
export interface DeadLetterStore {
  /** Inside the caller's transaction (the commit that moves the table's position past them). */
  add(db: ClientBase, tableId: number, letters: readonly DeadLetter[]): Promise<void>;
  /** The table's letters still open, oldest first (no payloads): almost always none. */
  open(tableId: number): Promise<OpenDeadLetter[]>;
  /** Up to `limit` letters waiting to be replayed, in source order. */
  replaying(tableId: number, limit: number): Promise<StoredDeadLetter[]>;
  /** Inside the commit that wrote a later change of their keys. */
  supersede(db: ClientBase, ids: readonly string[]): Promise<void>;
  /** Inside the replay's commit; false when a letter was no longer 'replaying' (the commit must not stand). */
  settle(db: ClientBase, outcomes: readonly ReplayOutcome[]): Promise<boolean>;
}

/** A letter locked for an operator's move. */
export interface LockedDeadLetter {
  readonly id: string;
  readonly status: DeadLetterStatus;
  readonly source: string;
  readonly tableId: number;
}

/** One letter whole, as stored: its event undecoded, with the columns of its schema version. */
export interface StoredDeadLetterDetail extends DeadLetterSummary {
  readonly payload: Buffer;
  readonly history: JsonValue[];
  /** Null when its schema version is gone. */
  readonly columns: ColumnSchema[] | null;
}

/** Letters counted by table, error class and status (within a filter). */
export interface DeadLetterCountRow {
  readonly source: string;
  readonly schema: string;
  readonly table: string;
  readonly errorClass: string;
  readonly status: DeadLetterStatus;
  readonly count: number;
}

/** Rows deleted per statement: keeps each transaction (and its locks) short on a large backlog. */
const RETENTION_CHUNK = 10_000;

const historyEntry = (move: DeadLetterMoveName, extra: string) => `jsonb_build_object('at', now(), 'event', '${DEAD_LETTER_MOVES[move].event}'${extra})`;

/**
 * `cdc_dead_letters`: every statement against it. Each move of a letter's status is guarded by the
 * statuses the model allows it from (see DEAD_LETTER_MOVES).
 */
export class PostgresDeadLetterStore implements DeadLetterStore {
  constructor(private readonly pool: Pool) {}

  async add(db: ClientBase, tableId: number, letters: readonly DeadLetter[]): Promise<void> {
    for (const letter of letters) {
      const { change } = letter;
      const at = new Date().toISOString();
      const history: Array<Record<string, unknown>> = [{ at, event: DEAD_LETTER_MOVES.fail.event, kind: letter.kind, message: letter.message, attempts: letter.attempts }];
      if (letter.superseded) history.push({ at, event: DEAD_LETTER_MOVES.failSuperseded.event, kind: letter.kind, message: 'a later change of the same key was written in the same commit', attempts: letter.attempts });
      // The event's identity is unique: a re-run of the same commit (after a crash) adds nothing twice.
      await db.query(
        `INSERT INTO cdc_dead_letters (table_id, commit_lsn, seq, op, xid, commit_ts, schema_version, payload, error_kind, error_message, attempts, history, row_key, status)
         VALUES ($1, $2, $3, $4, $5, ${timestamptzOfPgMicros('$6')}, $7, $8, $9, $10, $11, $12::jsonb, $13, $14)
         ON CONFLICT (table_id, commit_lsn, seq, commit_ts) DO NOTHING`,
        [
          tableId,
          formatLsn(change.position.lsn),
          change.position.seq,
          change.op,
          change.xid,
          change.commitTime.toString(),
          change.schemaVersion,
          change.payload,
          letter.kind,
          letter.message,
          letter.attempts,
          JSON.stringify(history),
          letter.key ?? null,
          letter.superseded ? DEAD_LETTER_MOVES.failSuperseded.to : DEAD_LETTER_MOVES.fail.to,
        ],
      );
    }
  }

  async open(tableId: number): Promise<OpenDeadLetter[]> {
    const { rows } = await this.pool.query<{ id: string; status: 'pending' | 'replaying'; row_key: string | null; commit_lsn: string; seq: string }>(
      `SELECT id::text, status, row_key, commit_lsn::text, seq::text FROM cdc_dead_letters
        WHERE table_id = $1 AND status = ANY($2::text[]) ORDER BY commit_lsn, seq`,
      [tableId, OPEN_STATUSES],
    );
    return rows.map((row) => ({
      id: row.id,
      status: row.status,
      ...(row.row_key === null ? {} : { key: row.row_key }),
      position: { lsn: parseLsn(row.commit_lsn), seq: Number(row.seq) },
    }));
  }

  async replaying(tableId: number, limit: number): Promise<StoredDeadLetter[]> {
    const { rows } = await this.pool.query<{ id: string; commit_lsn: string; seq: string; op: StoredDeadLetter['op']; xid: string | null; micros: string; schema_version: number; payload: Buffer }>(
      `SELECT id::text, commit_lsn::text, seq::text, op, xid::text, schema_version, payload,
              ${pgMicrosOfTimestamptz('commit_ts')}::text AS micros
         FROM cdc_dead_letters
        WHERE table_id = $1 AND status = $3 ORDER BY commit_lsn, seq LIMIT $2`,
      [tableId, limit, DEAD_LETTER_MOVES.requestReplay.to],
    );
    return rows.map((row) => ({
      id: row.id,
      position: { lsn: parseLsn(row.commit_lsn), seq: Number(row.seq) },
      op: row.op,
      xid: row.xid === null ? null : Number(row.xid),
      commitTime: BigInt(row.micros),
      schemaVersion: row.schema_version,
      payload: row.payload,
    }));
  }

  async supersede(db: ClientBase, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const move = DEAD_LETTER_MOVES.supersede;
    await db.query(
      `UPDATE cdc_dead_letters
          SET status = $3, updated_at = now(),
              history = history || jsonb_build_array(${historyEntry('supersede', ", 'message', 'a later change of the same key was written'")})
        WHERE id = ANY($1::bigint[]) AND status = ANY($2::text[])`,
      [ids, move.from, move.to],
    );
  }

  async settle(db: ClientBase, outcomes: readonly ReplayOutcome[]): Promise<boolean> {
    if (outcomes.length === 0) return true;
    const moves = outcomes.map((o) => {
      const move = DEAD_LETTER_MOVES[SETTLE_MOVE[o.outcome]];
      return { id: o.id, status: move.to, event: move.event, failed: o.outcome === 'failed', ...(o.outcome === 'failed' ? { kind: o.kind, message: o.message } : {}) };
    });
    // Every settling move leaves 'replaying' only: a letter moved meanwhile makes the count fall short.
    const { rowCount } = await db.query(
      `UPDATE cdc_dead_letters d
          SET status = o.status,
              attempts = d.attempts + CASE WHEN o.failed THEN 1 ELSE 0 END,
              error_kind = coalesce(o.kind, d.error_kind),
              error_message = coalesce(o.message, d.error_message),
              updated_at = now(),
              history = d.history || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('at', now(), 'event', o.event, 'kind', o.kind, 'message', o.message)))
         FROM jsonb_to_recordset($1::jsonb) AS o(id bigint, status text, event text, failed boolean, kind text, message text)
        WHERE d.id = o.id AND d.status = $2`,
      [JSON.stringify(moves), DEAD_LETTER_MOVES.replayed.from[0]],
    );
    return rowCount === outcomes.length;
  }

  /** Locks one letter for an operator's move (undefined: no such letter). */
  async lock(db: ClientBase, id: string): Promise<LockedDeadLetter | undefined> {
    const { rows } = await db.query<{ status: DeadLetterStatus; source: string; table_id: number }>(
      `SELECT d.status, t.source_id AS source, d.table_id FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
        WHERE d.id = $1::bigint FOR UPDATE OF d`,
      [id],
    );
    return rows[0] && { id, status: rows[0].status, source: rows[0].source, tableId: rows[0].table_id };
  }

  /** Locks up to `limit` matching letters in the given statuses, oldest source position first; ones another request holds are skipped. */
  async pick(db: ClientBase, filter: Omit<DeadLetterFilter, 'status'>, statuses: readonly DeadLetterStatus[], limit: number): Promise<LockedDeadLetter[]> {
    const params: unknown[] = [statuses];
    // The statuses are the caller's list: a status in the filter (a JS caller, say) must not narrow it to nothing.
    const conditions = ['d.status = ANY($1::text[])', ...filterConditions({ ...filter, status: undefined } as DeadLetterFilter, params)];
    params.push(limit);
    const { rows } = await db.query<{ id: string; status: DeadLetterStatus; source: string; table_id: number }>(
      `SELECT d.id::text AS id, d.status, t.source_id AS source, d.table_id FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
        WHERE ${conditions.join(' AND ')}
        ORDER BY d.table_id, d.commit_lsn, d.seq LIMIT $${params.length}
        FOR UPDATE OF d SKIP LOCKED`,
      params,
    );
    return rows.map((row) => ({ id: row.id, status: row.status, source: row.source, tableId: row.table_id }));
  }

  /** An operator's move of locked letters, with who asked and why in their history. */
  async move(db: ClientBase, ids: readonly string[], name: 'requestReplay' | 'discard', entry: { readonly by?: string; readonly reason?: string }): Promise<void> {
    if (ids.length === 0) return;
    const move = DEAD_LETTER_MOVES[name];
    await db.query(
      `UPDATE cdc_dead_letters
          SET status = $2, status_reason = coalesce($3, status_reason), updated_at = now(),
              history = history || jsonb_build_array(jsonb_strip_nulls($4::jsonb || jsonb_build_object('at', now())))
        WHERE id = ANY($1::bigint[]) AND status = ANY($5::text[])`,
      [ids, move.to, entry.reason ?? null, JSON.stringify({ event: move.event, ...(entry.reason !== undefined ? { reason: entry.reason } : {}), by: entry.by ?? null }), move.from],
    );
  }

  /** Inside a copy's plan: the table's open letters are superseded (the copy holds each row as it is now). */
  static async supersedeCopied(db: Pick<ClientBase, 'query'>, tableId: number): Promise<void> {
    const move = DEAD_LETTER_MOVES.copiedAgain;
    await db.query(
      `UPDATE cdc_dead_letters SET status = $2, status_reason = 'the table was copied again', updated_at = now(),
              history = history || jsonb_build_array(${historyEntry('copiedAgain', ", 'reason', 'the table was copied again'")})
        WHERE table_id = $1 AND status = ANY($3::text[])`,
      [tableId, move.to, move.from],
    );
  }

  /** Newest first, `limit` per page; `after` is the previous page's cursor (keyset, stable under inserts). */
  async list(filter: DeadLetterFilter, page: { readonly limit: number; readonly after?: string }): Promise<DeadLetterPage> {
    const params: unknown[] = [];
    const conditions = filterConditions(filter, params);
    if (page.after !== undefined) {
      params.push(page.after);
      conditions.push(`d.id < $${params.length}::bigint`);
    }
    params.push(page.limit + 1);
    const { rows } = await this.pool.query<DeadLetterSummary>(
      `SELECT ${SUMMARY_COLUMNS} FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
        ${whereClause(conditions)} ORDER BY d.id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, page.limit);
    return rows.length > page.limit ? { items, nextCursor: items[items.length - 1].id } : { items };
  }

  async get(id: string): Promise<StoredDeadLetterDetail | undefined> {
    const { rows } = await this.pool.query<StoredDeadLetterDetail>(
      `SELECT ${SUMMARY_COLUMNS}, d.payload, d.history, h.columns
         FROM cdc_dead_letters d
         JOIN cdc_tables t ON t.table_id = d.table_id
         LEFT JOIN cdc_schema_history h ON h.table_id = d.table_id AND h.version = d.schema_version
        WHERE d.id = $1::bigint`,
      [id],
    );
    return rows[0];
  }

  /** Counts by table, error class and status, within the filter. */
  async counts(filter: Omit<DeadLetterFilter, 'status'>): Promise<DeadLetterCountRow[]> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query<Omit<DeadLetterCountRow, 'count'> & { count: string }>(
      `SELECT t.source_id AS source, t.schema_name AS schema, t.table_name AS "table", d.error_kind AS "errorClass", d.status, count(*)::text AS count
         FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
         ${whereClause(filterConditions(filter, params))}
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
      params,
    );
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /** Every letter counted by status (the statuses none is in are absent). */
  async countByStatus(): Promise<Map<DeadLetterStatus, number>> {
    const { rows } = await this.pool.query<{ status: DeadLetterStatus; n: number }>('SELECT status, count(*)::int AS n FROM cdc_dead_letters GROUP BY status');
    return new Map(rows.map((row) => [row.status, row.n]));
  }

  /** The newest letter of each of these row keys of the table (what verify compares a missing row with). */
  async newestByKey(tableId: number, keys: readonly string[]): Promise<Map<string, { readonly id: string; readonly status: DeadLetterStatus }>> {
    const { rows } = await this.pool.query<{ id: string; status: DeadLetterStatus; row_key: string }>(
      'SELECT DISTINCT ON (row_key) id::text, status, row_key FROM cdc_dead_letters WHERE table_id = $1 AND row_key = ANY($2) ORDER BY row_key, id DESC',
      [tableId, keys],
    );
    return new Map(rows.map((row) => [row.row_key, { id: row.id, status: row.status }]));
  }

  /**
   * Removes settled letters older than the retention (they stay until then, for audit). An open
   * letter is never removed, however old: nobody decided to drop its event (pendingPastRetention
   * counts them for an alert). One caller at a time runs it (advisory lock); the others skip the
   * round. Returns how many went.
   */
  async removeExpired(retentionMs: number): Promise<number> {
    return withPoolClient(this.pool, async (db) => {
      const { rows } = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, 0) AS ok', [LockSpace.DeadLetterRetention]);
      if (!rows[0].ok) return 0;
      try {
        let removed = 0;
        for (;;) {
          const { rowCount } = await db.query(
            `DELETE FROM cdc_dead_letters WHERE id IN (
               SELECT id FROM cdc_dead_letters
                WHERE created_at < now() - $1::bigint * interval '1 millisecond' AND status = ANY($2::text[])
                LIMIT ${RETENTION_CHUNK})`,
            [retentionMs, SETTLED_STATUSES],
          );
          removed += rowCount ?? 0;
          if ((rowCount ?? 0) < RETENTION_CHUNK) return removed;
        }
      } finally {
        await db.query('SELECT pg_advisory_unlock($1, 0)', [LockSpace.DeadLetterRetention]);
      }
    });
  }

  /** Pending letters older than the retention: kept, and reported (an operator must decide). */
  async pendingPastRetention(retentionMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM cdc_dead_letters WHERE status = $2 AND created_at < now() - $1::bigint * interval '1 millisecond'",
      [retentionMs, DEAD_LETTER_MOVES.fail.to],
    );
    return rows[0].n;
  }
}

/** The move each replay outcome makes. */
export const SETTLE_MOVE: Record<ReplayOutcome['outcome'], DeadLetterMoveName> = { replayed: 'replayed', superseded: 'replaySuperseded', failed: 'replayFailed' };

/**
 * The filter as SQL conditions over `cdc_dead_letters d JOIN cdc_tables t`. Values only ever
 * travel as parameters (appended to `params`); the SQL text is fixed by which fields are present.
 */
export function filterConditions(filter: DeadLetterFilter, params: unknown[]): string[] {
  const conditions: string[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    conditions.push(sql(`$${params.length}`));
  };
  if (filter.source !== undefined) add((p) => `t.source_id = ${p}`, filter.source);
  if (filter.schema !== undefined) add((p) => `t.schema_name = ${p}`, filter.schema);
  if (filter.table !== undefined) add((p) => `t.table_name = ${p}`, filter.table);
  if (filter.errorClass !== undefined) add((p) => `d.error_kind = ${p}`, filter.errorClass);
  if (filter.status !== undefined) add((p) => `d.status = ${p}`, filter.status);
  if (filter.from !== undefined) add((p) => `d.created_at >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `d.created_at < ${p}`, filter.to);
  return conditions;
}

/** `WHERE a AND b` or nothing. */
function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** The columns a summary is read from (`d` dead letters, `t` tables), microseconds kept as text. */
const SUMMARY_COLUMNS = `
  d.id::text AS id, t.source_id AS source, t.schema_name AS schema, t.table_name AS "table", d.op,
  d.commit_lsn::text AS "commitLsn", d.seq::text AS seq, d.xid::text AS xid,
  to_char(d.commit_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "commitTs",
  d.schema_version AS "schemaVersion", d.error_kind AS "errorClass", d.error_message AS "errorMessage",
  d.attempts, d.status, d.status_reason AS "statusReason",
  to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt",
  to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "updatedAt"`;

