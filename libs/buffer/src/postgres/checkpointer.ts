import { ClientBase } from 'pg';
import { pgMicrosOfTimestamptz, timestamptzOfPgMicros } from '@philotes/pgoutput';
import { Checkpoint } from '../buffered-event';
import { Checkpointer } from '../ports';
import { lsnColumn, lsnParam } from './sql';

/** Where a source's checkpoint is read and saved: `cdc_checkpoints`, one row per source. */
export class PostgresCheckpointer implements Checkpointer {
  /** `startOver` runs a transaction: give a client, not a pool, for it. */
  constructor(private readonly client: Pick<ClientBase, 'query'>) {}

  async load(sourceId: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.client.query<{ confirmed_lsn: string; partial_commit_lsn: string | null; partial_seq: string | null; last_commit_micros: string | null }>(
      `SELECT confirmed_lsn, partial_commit_lsn, partial_seq,
              ${pgMicrosOfTimestamptz('last_commit_ts')} AS last_commit_micros
         FROM cdc_checkpoints WHERE source_id = $1`,
      [sourceId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      confirmedLsn: lsnColumn(row.confirmed_lsn),
      ...(row.partial_commit_lsn !== null ? { partial: { commitLsn: lsnColumn(row.partial_commit_lsn), seq: Number(row.partial_seq) } } : {}),
      ...(row.last_commit_micros !== null ? { lastCommitTime: BigInt(row.last_commit_micros) } : {}),
    };
  }

  async initialise(sourceId: string, slot: string, lsn: bigint): Promise<void> {
    await this.client.query(
      'INSERT INTO cdc_checkpoints (source_id, slot_name, confirmed_lsn) VALUES ($1, $2, $3) ON CONFLICT (source_id) DO NOTHING',
      [sourceId, slot, lsnParam(lsn)],
    );
  }

  async resyncRequested(sourceId: string): Promise<boolean> {
    const { rows } = await this.client.query<{ asked: boolean }>('SELECT resync_requested_at IS NOT NULL AS asked FROM cdc_checkpoints WHERE source_id = $1', [sourceId]);
    return rows[0]?.asked ?? false;
  }

  async startOver(sourceId: string, slot: string, lsn: bigint): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await this.client.query(
        `UPDATE cdc_checkpoints SET slot_name = $2, confirmed_lsn = $3, partial_commit_lsn = NULL, partial_seq = NULL, last_commit_ts = NULL,
                resync_requested_at = NULL, resync_requested_by = NULL, updated_at = now()
          WHERE source_id = $1`,
        [sourceId, slot, lsnParam(lsn)],
      );
      // The old history goes now, with the slot it came from: a table copied later (it joins the
      // publication afterwards, or a crash interrupts the copies) must find only the new one's
      // changes, which it keeps where its snapshot does not show them.
      await this.client.query('DELETE FROM cdc_events WHERE table_id IN (SELECT table_id FROM cdc_tables WHERE source_id = $1)', [sourceId]);
      // Nothing of theirs is in the buffer now: no backlog.
      await this.client.query('UPDATE cdc_table_volume SET stored_bytes = 0 WHERE table_id IN (SELECT table_id FROM cdc_tables WHERE source_id = $1)', [sourceId]);
      await this.client.query('UPDATE cdc_writer_progress SET applied_bytes = 0 WHERE table_id IN (SELECT table_id FROM cdc_tables WHERE source_id = $1)', [sourceId]);
      await this.client.query(
        `INSERT INTO cdc_backfill (table_id, status, reason, discard_history)
         SELECT table_id, 'requested', 'resync', true FROM cdc_tables WHERE source_id = $1
         ON CONFLICT (table_id) DO UPDATE SET status = 'requested', reason = 'resync', discard_history = true`,
        [sourceId],
      );
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async advanceIdle(sourceId: string, lsn: bigint): Promise<boolean> {
    const result = await this.client.query(
      `UPDATE cdc_checkpoints SET confirmed_lsn = $2, updated_at = now()
        WHERE source_id = $1 AND confirmed_lsn < $2 AND partial_commit_lsn IS NULL`,
      [sourceId, lsnParam(lsn)],
    );
    return result.rowCount === 1;
  }

  /**
   * The statement that saves `checkpoint` inside the caller's transaction, with its values inlined
   * (escaped) so the caller can send it together with other statements in one round trip. The
   * position never moves backwards.
   */
  static saveStatement(client: ClientBase, sourceId: string, checkpoint: Checkpoint): string {
    const literal = (value: string | null) => (value === null ? 'NULL' : client.escapeLiteral(value));
    const time = checkpoint.lastCommitTime === undefined ? 'last_commit_ts' : timestamptzOfPgMicros(checkpoint.lastCommitTime.toString());
    return `UPDATE cdc_checkpoints
               SET confirmed_lsn = GREATEST(confirmed_lsn, ${literal(lsnParam(checkpoint.confirmedLsn))}::pg_lsn),
                   partial_commit_lsn = ${literal(checkpoint.partial ? lsnParam(checkpoint.partial.commitLsn) : null)}::pg_lsn,
                   partial_seq = ${checkpoint.partial ? Number(checkpoint.partial.seq) : 'NULL'},
                   last_commit_ts = ${time}, updated_at = now()
             WHERE source_id = ${literal(sourceId)}`;
  }
}

/** An operator's request to start the source over (a new slot); false when the source has no checkpoint. */
export async function requestStartOver(db: Pick<ClientBase, 'query'>, sourceId: string, requestedBy: string | undefined): Promise<boolean> {
  const updated = await db.query('UPDATE cdc_checkpoints SET resync_requested_at = now(), resync_requested_by = $2 WHERE source_id = $1', [sourceId, requestedBy ?? null]);
  return updated.rowCount === 1;
}

/** Where the source's stored changes end (everything before is in the buffer), or undefined before its first start. */
export async function confirmedLsnOf(db: Pick<ClientBase, 'query'>, sourceId: string): Promise<bigint | undefined> {
  const { rows } = await db.query<{ lsn: string }>('SELECT confirmed_lsn::text AS lsn FROM cdc_checkpoints WHERE source_id = $1', [sourceId]);
  return rows[0] ? lsnColumn(rows[0].lsn) : undefined;
}
