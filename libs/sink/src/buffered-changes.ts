import { Pool } from 'pg';
import { CdcValue, ColumnSchema, createDecoder, decodePayload } from '@philotes/events';
import { formatLsn, parseLsn } from '@philotes/pgoutput';

/** Where a table's writer is in its event stream (the last event applied, or before the first). */
export interface Position {
  readonly lsn: bigint;
  readonly seq: number;
}

export const BEFORE_FIRST: Position = { lsn: 0n, seq: Number.MIN_SAFE_INTEGER };

/** A buffered event, decoded with its schema version. */
export interface BufferedChange {
  readonly position: Position;
  readonly op: 'I' | 'U' | 'D' | 'T' | 'R';
  readonly xid: number | null;
  /** PostgreSQL-epoch microseconds. */
  readonly commitTime: bigint;
  readonly schemaVersion: number;
  readonly columns: readonly ColumnSchema[];
  readonly after?: readonly CdcValue[];
  readonly before?: readonly CdcValue[];
  readonly beforeIsKeyOnly: boolean;
  /** The stored bytes, kept for the dead letters. */
  readonly payload: Buffer;
}

export interface TableSchemaVersion {
  readonly columns: readonly ColumnSchema[];
  readonly replicaIdentity: string;
}

/**
 * Reads one table's events from the buffer in commit order, after a position, decoding each with
 * its schema version (cached: versions never change once written).
 */
export class BufferedChanges {
  private readonly versions = new Map<string, TableSchemaVersion>();
  private readonly decoder = createDecoder();

  constructor(private readonly pool: Pool) {}

  async version(tableId: number, version: number): Promise<TableSchemaVersion> {
    const cacheKey = `${tableId}/${version}`;
    let found = this.versions.get(cacheKey);
    if (!found) {
      const { rows } = await this.pool.query<{ columns: ColumnSchema[]; replica_identity: string }>(
        'SELECT columns, replica_identity FROM cdc_schema_history WHERE table_id = $1 AND version = $2',
        [tableId, version],
      );
      if (!rows[0]) throw new Error(`table ${tableId} has no schema version ${version}`);
      found = { columns: rows[0].columns, replicaIdentity: rows[0].replica_identity };
      this.versions.set(cacheKey, found);
    }
    return found;
  }

  async latestVersion(tableId: number): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ version: number }>('SELECT max(version) AS version FROM cdc_schema_history WHERE table_id = $1', [tableId]);
    return rows[0]?.version ?? undefined;
  }

  /** Up to `limit` events after `after`, in commit order. */
  async after(tableId: number, after: Position, limit: number): Promise<BufferedChange[]> {
    const { rows } = await this.pool.query<{ commit_lsn: string; seq: string; op: BufferedChange['op']; xid: string | null; commit_micros: string; schema_version: number; payload: Buffer }>(
      // ORDER BY names the table's columns (e.): bare names would mean the text outputs of the
      // same names, and '0/9FFFFFF' > '0/10000000' as text.
      `SELECT e.commit_lsn::text, e.seq::text, e.op, e.xid::text,
              (extract(epoch FROM e.commit_ts - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint::text AS commit_micros,
              e.schema_version, e.payload
         FROM cdc_events e
        WHERE e.table_id = $1 AND (e.commit_lsn, e.seq) > ($2::pg_lsn, $3::bigint)
        ORDER BY e.commit_lsn, e.seq
        LIMIT $4`,
      [tableId, formatLsn(after.lsn), after.seq, limit],
    );
    const changes: BufferedChange[] = [];
    for (const row of rows) {
      const { columns } = await this.version(tableId, row.schema_version);
      const payload = decodePayload(this.decoder, row.payload, columns);
      changes.push({
        position: { lsn: parseLsn(row.commit_lsn), seq: Number(row.seq) },
        op: row.op,
        xid: row.xid === null ? null : Number(row.xid),
        commitTime: BigInt(row.commit_micros),
        schemaVersion: row.schema_version,
        columns,
        ...(payload.after ? { after: payload.after } : {}),
        ...(payload.before ? { before: payload.before } : {}),
        beforeIsKeyOnly: payload.beforeIsKeyOnly ?? false,
        payload: row.payload,
      });
    }
    return changes;
  }
}
