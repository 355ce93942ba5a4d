import { ClientBase } from 'pg';
import { timestamptzOfPgMicros } from '@philotes/pgoutput';
import { StoredEvent } from '../event-forms';
import { BEFORE_COPY_SEQ, COPY_MARKER_SEQ } from '../copy-positions';
import { BackfillState, BackfillStore, CopyPlan, CopyReason, CopyStart } from '../ports';
import { CopyFencedError } from './copy-fence';
import { PostgresDeadLetterStore } from './dead-letter-store';
import { copyEvents } from './event-store';
import { assertLeading, LeaderFence } from './leader-lock';
import { encodeWakeUp, EVENTS_CHANNEL, notify } from '../notices';
import { lsnColumn, lsnParam } from './sql';

/** `cdc_backfill`: each table's copy, its snapshot and progress. */
export class PostgresBackfillStore implements BackfillStore {
  /**
   * `begin` and `finish` run transactions: give a client, not a pool, for those. With `leader`,
   * every write first checks that its reader still leads the source.
   */
  constructor(
    private readonly client: Pick<ClientBase, 'query'>,
    private readonly leader?: LeaderFence,
  ) {}

  private async leading(): Promise<void> {
    if (this.leader) await assertLeading(this.client, this.leader);
  }

  async states(sourceId: string): Promise<BackfillState[]> {
    const { rows } = await this.client.query<{
      table_id: number;
      schema_name: string;
      table_name: string;
      status: 'requested' | 'copying' | 'done' | 'failed';
      snapshot_lsn: string | null;
      snapshot_xmin: string | null;
      snapshot_xmax: string | null;
      snapshot_xip: string[] | null;
      rows_copied: string;
      relation_oid: string | null;
      membership_oid: string | null;
      reason: CopyReason;
      discard_history: boolean;
    }>(
      `SELECT b.table_id, t.schema_name, t.table_name, b.status, b.snapshot_lsn, b.snapshot_xmin, b.snapshot_xmax,
              b.snapshot_xip::text[] AS snapshot_xip, b.rows_copied, b.relation_oid, b.membership_oid, b.reason, b.discard_history
         FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.source_id = $1`,
      [sourceId],
    );
    return rows.map((row) => ({
      tableId: row.table_id,
      schema: row.schema_name,
      table: row.table_name,
      status: row.status,
      ...(row.snapshot_lsn !== null
        ? { snapshot: { lsn: lsnColumn(row.snapshot_lsn), xmin: BigInt(row.snapshot_xmin!), xmax: BigInt(row.snapshot_xmax!), xip: row.snapshot_xip!.map(BigInt) } }
        : {}),
      rowsCopied: Number(row.rows_copied),
      ...(row.relation_oid !== null ? { relationOid: Number(row.relation_oid) } : {}),
      ...(row.membership_oid !== null ? { membershipOid: Number(row.membership_oid) } : {}),
      reason: row.reason,
      discardHistory: row.discard_history,
    }));
  }

  async begin(tableId: number, plan: CopyPlan): Promise<CopyStart> {
    const { snapshot } = plan;
    await this.client.query('BEGIN');
    try {
      await this.leading();
      // The row is the copy's fence: one plan at a time per table.
      await this.client.query('SELECT 1 FROM cdc_backfill WHERE table_id = $1 FOR UPDATE', [tableId]);
      // The volume row too: the stream stores no change of the table until the plan is in, so
      // the backlog recounted below matches the stored volume exactly.
      await this.client.query('INSERT INTO cdc_table_volume (table_id) VALUES ($1) ON CONFLICT DO NOTHING', [tableId]);
      await this.client.query('SELECT 1 FROM cdc_table_volume WHERE table_id = $1 FOR UPDATE', [tableId]);
      // What the copy replaces: earlier copies' rows, and streamed changes the snapshot shows —
      // committed before its position with a visible xid (64-bit on both sides: the reader widens
      // pgoutput's). Changes it does not show stay: they are applied after the copy.
      await this.client.query(
        `DELETE FROM cdc_events e
          WHERE e.table_id = $1
            AND ($6 OR e.xid IS NULL
                 OR (e.commit_lsn < $2::pg_lsn
                     AND (e.xid < $3::bigint OR (e.xid < $4::bigint AND NOT e.xid = ANY ($5::bigint[])))))`,
        [tableId, lsnParam(snapshot.lsn), snapshot.xmin.toString(), snapshot.xmax.toString(), snapshot.xip.map(String), plan.discardHistory === true],
      );
      // The copy sorts before every change kept: at the fence, or before a change the snapshot
      // does not show though it committed earlier (visibility and commit order may differ).
      const { rows } = await this.client.query<{ copy_lsn: string }>(
        'SELECT least($2::pg_lsn, (SELECT min(commit_lsn) FROM cdc_events WHERE table_id = $1))::text AS copy_lsn',
        [tableId, lsnParam(plan.fenceLsn)],
      );
      const copyLsn = lsnColumn(rows[0].copy_lsn);
      // The writer applies the copy next, whatever it applied before. Upserted: a writer about to
      // make its first commit of the table then finds the row moved and gives up (stale).
      await this.client.query(
        `INSERT INTO cdc_writer_progress (table_id, applied_lsn, applied_seq) VALUES ($1, $2, $3)
         ON CONFLICT (table_id) DO UPDATE SET applied_lsn = EXCLUDED.applied_lsn, applied_seq = EXCLUDED.applied_seq, updated_at = now()`,
        [tableId, lsnParam(copyLsn), BEFORE_COPY_SEQ],
      );
      // Replaying a letter captured before the copy would move its row back in time.
      await PostgresDeadLetterStore.supersedeCopied(this.client, tableId);
      const planned = await this.client.query<{ generation: string }>(
        `INSERT INTO cdc_backfill (table_id, status, snapshot_lsn, snapshot_xmin, snapshot_xmax, snapshot_xip, relation_oid, copy_lsn, reason, generation, membership_oid)
         VALUES ($1, 'copying', $2, $3, $4, $5::bigint[], $6, $7, $8, 1, $9)
         ON CONFLICT (table_id) DO UPDATE SET status = 'copying', failure = NULL, snapshot_lsn = EXCLUDED.snapshot_lsn,
           snapshot_xmin = EXCLUDED.snapshot_xmin, snapshot_xmax = EXCLUDED.snapshot_xmax, snapshot_xip = EXCLUDED.snapshot_xip,
           relation_oid = EXCLUDED.relation_oid, membership_oid = EXCLUDED.membership_oid, copy_lsn = EXCLUDED.copy_lsn, reason = EXCLUDED.reason, discard_history = false,
           rows_copied = 0, started_at = now(), finished_at = NULL, generation = cdc_backfill.generation + 1
         RETURNING generation`,
        [tableId, lsnParam(snapshot.lsn), snapshot.xmin.toString(), snapshot.xmax.toString(), snapshot.xip.map(String), plan.relationOid, lsnParam(copyLsn), plan.reason, plan.membershipOid ?? null],
      );
      // The TRUNCATE goes with the plan: a writer's next event of the table is the copy's start,
      // so it waits for the copy even where changes kept follow it already.
      const { marker } = plan;
      await copyEvents(this.client, [
        { tableId, commitLsn: copyLsn, seq: COPY_MARKER_SEQ, op: 'T', xid: null, commitTime: marker.commitTime, schemaVersion: marker.schemaVersion, payload: marker.payload },
      ]);
      await recountBacklog(this.client, tableId);
      // The copy replaces what the table failed on (a corrupt event, say): its writers try again.
      // Cleared here, not when the resync was asked for: a writer would fail it again meanwhile.
      await this.client.query('DELETE FROM cdc_table_failures WHERE table_id = $1', [tableId]);
      await this.client.query('COMMIT');
      return { copyLsn, generation: Number(planned.rows[0].generation) };
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async fail(tableId: number, generation: number, reason: string): Promise<void> {
    await this.leading();
    const result = await this.client.query("UPDATE cdc_backfill SET status = 'failed', failure = $3, finished_at = NULL WHERE table_id = $1 AND generation = $2", [tableId, generation, reason]);
    if (result.rowCount !== 1) throw new CopyFencedError(tableId, generation);
  }

  async finish(sourceId: string, tableId: number, generation: number, rowsCopied: number): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await this.leading();
      const result = await this.client.query(
        "UPDATE cdc_backfill SET status = 'done', rows_copied = $3, finished_at = now() WHERE table_id = $1 AND generation = $2 AND status = 'copying'",
        [tableId, generation, rowsCopied],
      );
      if (result.rowCount !== 1) throw new CopyFencedError(tableId, generation);
      await notify(this.client, EVENTS_CHANNEL, encodeWakeUp(sourceId));
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

/**
 * Copied tables the publication no longer lists (ALTER PUBLICATION … DROP TABLE, or dropped) are
 * marked for a copy: changes made while a table is out never stream, so when it comes back it
 * joins afresh. Writers keep applying what they have meanwhile. Returns how many were marked.
 */
export async function markUnpublished(db: Pick<ClientBase, 'query'>, sourceId: string, published: ReadonlyArray<{ readonly schema: string; readonly table: string }>): Promise<number> {
  const result = await db.query(
    `UPDATE cdc_backfill b SET status = 'requested', reason = 'joined'
       FROM cdc_tables t
      WHERE t.table_id = b.table_id AND t.source_id = $1 AND b.status = 'done'
        AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS p(schema_name, table_name)
                         WHERE p.schema_name = t.schema_name AND p.table_name = t.table_name)`,
    [sourceId, published.map((p) => p.schema), published.map((p) => p.table)],
  );
  return result.rowCount ?? 0;
}

/**
 * After a plan removed events (applied or not) and moved the writer back: what is applied is what
 * was stored less what now follows the writer's position (the kept changes and the copy's marker).
 * Run with the table's volume row locked.
 */
async function recountBacklog(client: Pick<ClientBase, 'query'>, tableId: number): Promise<void> {
  await client.query(
    `UPDATE cdc_writer_progress p
        SET applied_bytes = greatest(0, (SELECT stored_bytes FROM cdc_table_volume WHERE table_id = $1) - (
              SELECT coalesce(sum(octet_length(e.payload)), 0) FROM cdc_events e
               WHERE e.table_id = $1 AND (e.commit_lsn, e.seq) > (p.applied_lsn, p.applied_seq)))
      WHERE p.table_id = $1`,
    [tableId],
  );
}

/** The reader's state of the table's latest copy: writers apply a copy only once it is done. */
export async function copyState(db: Pick<ClientBase, 'query'>, tableId: number): Promise<{ status: string; finished: boolean } | undefined> {
  const { rows } = await db.query<{ status: string; finished: boolean }>('SELECT status, finished_at IS NOT NULL AS finished FROM cdc_backfill WHERE table_id = $1', [tableId]);
  return rows[0];
}

/**
 * Inside the commit's transaction: whether the copy folded is still the table's copy, finished,
 * with exactly the rows folded — its TRUNCATE still in the buffer with the same commit time (a copy
 * planned again at the same position gets another). The backfill row is locked (shared) so a new
 * plan waits for this commit.
 */
export async function copyIsWhole(db: Pick<ClientBase, 'query'>, tableId: number, marker: Pick<StoredEvent, 'position' | 'commitTime'>, rows: number): Promise<boolean> {
  const { rows: found } = await db.query<{ whole: boolean }>(
    `SELECT b.status IN ('done', 'requested') AND b.finished_at IS NOT NULL AND b.rows_copied = $4
            AND EXISTS (SELECT 1 FROM cdc_events e WHERE e.table_id = $1 AND e.commit_lsn = $2::pg_lsn AND e.seq = $3 AND e.commit_ts = ${timestamptzOfPgMicros('$5')}) AS whole
       FROM cdc_backfill b WHERE b.table_id = $1 FOR SHARE`,
    [tableId, lsnParam(marker.position.lsn), marker.position.seq, rows, marker.commitTime.toString()],
  );
  return found[0]?.whole === true;
}

/** An operator's request to copy these tables again (planned at the reader's next start); a running copy is left to it. */
export async function requestCopies(db: Pick<ClientBase, 'query'>, tableIds: readonly number[], requestedBy: string | undefined): Promise<void> {
  await db.query(
    `INSERT INTO cdc_backfill (table_id, status, reason, requested_by)
     SELECT id, 'requested', 'resync', $2 FROM unnest($1::int[]) AS id
     ON CONFLICT (table_id) DO UPDATE SET status = 'requested', reason = 'resync', requested_by = EXCLUDED.requested_by
      WHERE cdc_backfill.status <> 'copying'`,
    [tableIds, requestedBy ?? null],
  );
}
