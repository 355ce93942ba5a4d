import { ClientBase } from 'pg';
import { BackfillState, BackfillStore, CopySnapshot } from '../ports';
import { encodeWakeUp } from '../wake-up';
import { EVENTS_CHANNEL, lsnColumn, lsnParam } from './sql';

/** `cdc_backfill`: each table's initial copy, its snapshot and progress. */
export class PostgresBackfillStore implements BackfillStore {
  constructor(private readonly client: ClientBase) {}

  async states(sourceId: string): Promise<BackfillState[]> {
    const { rows } = await this.client.query<{
      table_id: number;
      schema_name: string;
      table_name: string;
      status: 'copying' | 'done';
      snapshot_lsn: string;
      snapshot_xmin: string;
      snapshot_xmax: string;
      snapshot_xip: string[];
      rows_copied: string;
    }>(
      `SELECT b.table_id, t.schema_name, t.table_name, b.status, b.snapshot_lsn, b.snapshot_xmin, b.snapshot_xmax,
              b.snapshot_xip::text[] AS snapshot_xip, b.rows_copied
         FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.source_id = $1`,
      [sourceId],
    );
    return rows.map((row) => ({
      tableId: row.table_id,
      schema: row.schema_name,
      table: row.table_name,
      status: row.status,
      snapshot: { lsn: lsnColumn(row.snapshot_lsn), xmin: BigInt(row.snapshot_xmin), xmax: BigInt(row.snapshot_xmax), xip: row.snapshot_xip.map(BigInt) },
      rowsCopied: Number(row.rows_copied),
    }));
  }

  async begin(tableId: number, snapshot: CopySnapshot): Promise<void> {
    await this.client.query('BEGIN');
    try {
      // Rows of an interrupted copy were never applied (writers wait for 'done'); drop them.
      await this.client.query("DELETE FROM cdc_events WHERE table_id = $1 AND op = 'R'", [tableId]);
      await this.client.query(
        `INSERT INTO cdc_backfill (table_id, status, snapshot_lsn, snapshot_xmin, snapshot_xmax, snapshot_xip)
         VALUES ($1, 'copying', $2, $3, $4, $5::bigint[])
         ON CONFLICT (table_id) DO UPDATE SET status = 'copying', snapshot_lsn = EXCLUDED.snapshot_lsn,
           snapshot_xmin = EXCLUDED.snapshot_xmin, snapshot_xmax = EXCLUDED.snapshot_xmax,
           snapshot_xip = EXCLUDED.snapshot_xip, rows_copied = 0, started_at = now(), finished_at = NULL`,
        [tableId, lsnParam(snapshot.lsn), snapshot.xmin.toString(), snapshot.xmax.toString(), snapshot.xip.map(String)],
      );
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async finish(sourceId: string, tableId: number, rowsCopied: number): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await this.client.query("UPDATE cdc_backfill SET status = 'done', rows_copied = $2, finished_at = now() WHERE table_id = $1", [tableId, rowsCopied]);
      await this.client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, encodeWakeUp(sourceId)]);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
