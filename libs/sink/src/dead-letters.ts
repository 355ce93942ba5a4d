import { ClientBase, Pool } from 'pg';
import { formatLsn, parseLsn, pgMicrosOfTimestamptz, timestamptzOfPgMicros } from '@philotes/pgoutput';
import { BufferedChange, Position } from './buffered-changes';

export interface DeadLetter {
  readonly change: BufferedChange;
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
  readonly op: BufferedChange['op'];
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

/** Port: where events that can never be written go, with what went wrong, and how they come back. */
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


export class PostgresDeadLetterStore implements DeadLetterStore {
  constructor(private readonly pool: Pool) {}

  async add(db: ClientBase, tableId: number, letters: readonly DeadLetter[]): Promise<void> {
    for (const letter of letters) {
      const { change } = letter;
      const at = new Date().toISOString();
      const history = [{ at, event: 'failed', kind: letter.kind, message: letter.message, attempts: letter.attempts }];
      if (letter.superseded) history.push({ at, event: 'superseded', kind: letter.kind, message: 'a later change of the same key was written in the same commit', attempts: letter.attempts });
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
          letter.superseded ? 'superseded' : 'pending',
        ],
      );
    }
  }

  async open(tableId: number): Promise<OpenDeadLetter[]> {
    const { rows } = await this.pool.query<{ id: string; status: 'pending' | 'replaying'; row_key: string | null; commit_lsn: string; seq: string }>(
      `SELECT id::text, status, row_key, commit_lsn::text, seq::text FROM cdc_dead_letters
        WHERE table_id = $1 AND status IN ('pending', 'replaying') ORDER BY commit_lsn, seq`,
      [tableId],
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
        WHERE table_id = $1 AND status = 'replaying' ORDER BY commit_lsn, seq LIMIT $2`,
      [tableId, limit],
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
    await db.query(
      `UPDATE cdc_dead_letters
          SET status = 'superseded', updated_at = now(),
              history = history || jsonb_build_array(jsonb_build_object('at', now(), 'event', 'superseded', 'message', 'a later change of the same key was written'))
        WHERE id = ANY($1::bigint[]) AND status IN ('pending', 'replaying')`,
      [ids],
    );
  }

  async settle(db: ClientBase, outcomes: readonly ReplayOutcome[]): Promise<boolean> {
    if (outcomes.length === 0) return true;
    const { rowCount } = await db.query(
      `UPDATE cdc_dead_letters d
          SET status = CASE o.outcome WHEN 'failed' THEN 'pending' ELSE o.outcome END,
              attempts = d.attempts + CASE o.outcome WHEN 'failed' THEN 1 ELSE 0 END,
              error_kind = coalesce(o.kind, d.error_kind),
              error_message = coalesce(o.message, d.error_message),
              updated_at = now(),
              history = d.history || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
                'at', now(),
                'event', CASE o.outcome WHEN 'failed' THEN 'replay-failed' ELSE o.outcome END,
                'kind', o.kind, 'message', o.message)))
         FROM jsonb_to_recordset($1::jsonb) AS o(id bigint, outcome text, kind text, message text)
        WHERE d.id = o.id AND d.status = 'replaying'`,
      [JSON.stringify(outcomes)],
    );
    return rowCount === outcomes.length;
  }
}
