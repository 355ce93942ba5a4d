import { ClientBase } from 'pg';
import { Checkpoint } from '../buffered-event';
import { Checkpointer } from '../ports';
import { lsnColumn, lsnParam, PG_EPOCH_MICROS_SQL } from './sql';

/** Where a source's checkpoint is read and saved: `cdc_checkpoints`, one row per source. */
export class PostgresCheckpointer implements Checkpointer {
  constructor(private readonly client: ClientBase) {}

  async load(sourceId: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.client.query<{ confirmed_lsn: string; partial_commit_lsn: string | null; partial_seq: string | null; last_commit_micros: string | null }>(
      `SELECT confirmed_lsn, partial_commit_lsn, partial_seq,
              (extract(epoch FROM last_commit_ts - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint AS last_commit_micros
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

  async advanceIdle(sourceId: string, lsn: bigint): Promise<void> {
    await this.client.query(
      `UPDATE cdc_checkpoints SET confirmed_lsn = $2, updated_at = now()
        WHERE source_id = $1 AND confirmed_lsn < $2 AND partial_commit_lsn IS NULL`,
      [sourceId, lsnParam(lsn)],
    );
  }

  /** Saves `checkpoint` inside the caller's transaction. The position never moves backwards. */
  static async saveIn(client: ClientBase, sourceId: string, checkpoint: Checkpoint): Promise<void> {
    const result = await client.query(
      `UPDATE cdc_checkpoints
          SET confirmed_lsn = GREATEST(confirmed_lsn, $2::pg_lsn),
              partial_commit_lsn = $3, partial_seq = $4,
              last_commit_ts = coalesce(${PG_EPOCH_MICROS_SQL('$5')}, last_commit_ts),
              updated_at = now()
        WHERE source_id = $1`,
      [
        sourceId,
        lsnParam(checkpoint.confirmedLsn),
        checkpoint.partial ? lsnParam(checkpoint.partial.commitLsn) : null,
        checkpoint.partial?.seq ?? null,
        checkpoint.lastCommitTime?.toString() ?? null,
      ],
    );
    if (result.rowCount !== 1) throw new Error(`source ${sourceId} has no checkpoint row to advance`);
  }
}
