import { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { withIndexOrder } from '@philotes/db';
import { ColumnSchema, PayloadReader } from '@philotes/events';
import { formatLsn } from '@philotes/pgoutput';
import { DecodedEvent, isExactSeq, Position, StoredEvent, TableSchemaVersion, UnversionedEvent } from '../event-forms';
import { decodeEvent } from '../event-decoding';
import { COPY_COLUMNS, decodeBinaryCopy } from '../copy-binary';
import { copyState } from './backfill-store';

/**
 * Reads one table's events from the buffer in commit order, after a position, decoding each with
 * its schema version (cached: versions never change once written).
 */
export class EventReader {
  private readonly versions = new Map<string, TableSchemaVersion>();
  private readonly payloads = new PayloadReader();

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

  /** Whether the reader finished copying this table (then it exists in Iceberg even when empty). */
  async copied(tableId: number): Promise<boolean> {
    return (await copyState(this.pool, tableId))?.status === 'done';
  }

  /** The schema version of the table's first event after `after`, or undefined when none waits. */
  async nextVersion(tableId: number, after: Position): Promise<number | undefined> {
    const { rows } = await withIndexOrder(this.pool, (client) =>
      client.query<{ version: number }>(
        `SELECT e.schema_version AS version FROM cdc_events e
          WHERE e.table_id = $1 AND (e.commit_lsn, e.seq) > ($2::pg_lsn, $3::bigint) ORDER BY e.commit_lsn, e.seq LIMIT 1`,
        [tableId, formatLsn(after.lsn), after.seq],
      ),
    );
    return rows[0]?.version;
  }

  async latestVersion(tableId: number): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ version: number }>('SELECT max(version) AS version FROM cdc_schema_history WHERE table_id = $1', [tableId]);
    return rows[0]?.version ?? undefined;
  }

  /**
   * Up to `limit` events after `after`, in commit order. Fetched as a binary COPY: the positions
   * and commit time arrive as the integers they are and the payload as its bytes, where a query
   * result would spell them out as text and hex to be parsed back — most of the read cost.
   */
  async after(tableId: number, after: Position, limit: number): Promise<DecodedEvent[]> {
    return (await this.storedAfter(tableId, after, limit)).map((stored) => this.decodeStored(stored));
  }

  /**
   * The same events, not yet decoded. The writer decodes each just before folding it: decoded
   * rows then die young, where a page decoded up front (tens of megabytes of objects) outlived the
   * young generation and was copied into the old one — a large part of the writer's GC time.
   */
  async storedAfter(tableId: number, after: Position, limit: number, maxBytes = 0): Promise<StoredEvent[]> {
    if (![tableId, limit, maxBytes].every(Number.isSafeInteger) || !isExactSeq(after.seq)) throw new Error('buffer positions must be integers');
    const bytes = await withIndexOrder(this.pool, async (client) => {
      // COPY takes no parameters; every value inlined is an integer or an LSN we formatted.
      // ORDER BY names the table's columns (e.), never an output of the same name.
      const range = `FROM cdc_events e
                 WHERE e.table_id = ${tableId} AND (e.commit_lsn, e.seq) > ('${formatLsn(after.lsn)}'::pg_lsn, ${after.seq})
                 ORDER BY e.commit_lsn, e.seq LIMIT ${limit}`;
      const columns = COPY_COLUMNS.slice(1, -1);
      // Bounded by bytes too: the payloads before each event are summed in the index's order
      // (octet_length reads a TOASTed payload's header only), and the page ends where they pass
      // maxBytes, the first event always in. Events past it are never detoasted or sent.
      const select = maxBytes > 0
        ? `SELECT ${columns} FROM (SELECT e.*, sum(octet_length(e.payload)) OVER (ORDER BY e.commit_lsn, e.seq ROWS UNBOUNDED PRECEDING) - octet_length(e.payload) AS bytes_before ${range}) page
            WHERE page.bytes_before < ${maxBytes}`
        : `SELECT ${columns} ${range}`;
      const stream = client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
    const changes: StoredEvent[] = [];
    let columnsOf: { version: number; columns: readonly ColumnSchema[] } | undefined;
    for (const event of decodeBinaryCopy(bytes)) {
      if (columnsOf?.version !== event.schemaVersion) columnsOf = { version: event.schemaVersion, columns: (await this.version(tableId, event.schemaVersion)).columns };
      changes.push({
        position: { lsn: event.commitLsn, seq: event.seq },
        op: event.op,
        xid: event.xid,
        commitTime: event.commitTime,
        schemaVersion: event.schemaVersion,
        payload: event.payload as Buffer,
        columns: columnsOf.columns,
      });
    }
    return changes;
  }

  /** A stored change decoded (synchronous: its schema version came with it). */
  decodeStored(stored: StoredEvent): DecodedEvent {
    return decodeEvent(this.payloads, stored, stored.columns);
  }

  /** A stored event (a dead letter's copy, say) decoded as the buffer's events are. */
  async decode(tableId: number, event: UnversionedEvent): Promise<DecodedEvent> {
    return decodeEvent(this.payloads, event, (await this.version(tableId, event.schemaVersion)).columns);
  }
}
