import { ClientBase } from 'pg';
import { formatLsn } from '@philotes/pgoutput';
import { BufferedChange } from './buffered-changes';

export interface DeadLetter {
  readonly change: BufferedChange;
  readonly kind: string;
  readonly message: string;
  readonly attempts: number;
}

/** Port: where events that can never be written go, with what went wrong. */
export interface DeadLetterStore {
  /** Inside the caller's transaction (the commit that moves the table's position past them). */
  add(db: ClientBase, tableId: number, letters: readonly DeadLetter[]): Promise<void>;
}

export class PostgresDeadLetterStore implements DeadLetterStore {
  async add(db: ClientBase, tableId: number, letters: readonly DeadLetter[]): Promise<void> {
    for (const letter of letters) {
      const { change } = letter;
      const history = JSON.stringify([{ at: new Date().toISOString(), event: 'failed', kind: letter.kind, message: letter.message, attempts: letter.attempts }]);
      // The event's identity is unique: a re-run of the same commit (after a crash) adds nothing twice.
      await db.query(
        `INSERT INTO cdc_dead_letters (table_id, commit_lsn, seq, op, xid, commit_ts, schema_version, payload, error_kind, error_message, attempts, history)
         VALUES ($1, $2, $3, $4, $5, timestamptz '2000-01-01 00:00:00+00' + $6::bigint * interval '1 microsecond', $7, $8, $9, $10, $11, $12::jsonb)
         ON CONFLICT (table_id, commit_lsn, seq) DO NOTHING`,
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
          history,
        ],
      );
    }
  }
}
