import { deadPeerConfig } from '@philotes/db';
import { Client } from 'pg';
import { BufferedEvent, copyRowSeq, LeaderFence, CopyReason, CopySnapshot, PostgresBackfillStore, PostgresEventStore, PostgresSchemaStore, SchemaStore } from '@philotes/buffer';
import { createEncoder, encodePayload } from '@philotes/events';
import { FaultInjector } from '@philotes/faults';
import { parseLsn, pgMicrosOfTimestamptz } from '@philotes/pgoutput';
import { ReplicationTarget } from '@philotes/replication';
import { classifyError } from '@philotes/retry';
import { ReaderMetrics } from './reader-metrics';
import { RelationRegistry, RelationState } from './relation-registry';
import { PublishedShape, PublishedTable, SourceCatalog } from './source-catalog';
import { tupleValues } from './tuple-values';
import { CopyVisibility } from './visibility';

export interface CopyLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface InitialCopyDeps {
  readonly sourceId: string;
  /** The publication whose column lists, row filters and partition roots the copy follows. */
  readonly publication: string;
  readonly source: ReplicationTarget;
  /** The buffer: each run has a connection of its own, so it never shares the stream's transactions. */
  readonly bufferUrl: string;
  /** The leader connection's backend: a copy writes only while it holds the source's lock. */
  readonly leader: () => LeaderFence;
  /** A registry of the copy's own (the stream's describes what it streams). */
  readonly relations: (schemas: SchemaStore) => RelationRegistry;
  readonly batchSize: () => number;
  /** Bytes of one batch of copied rows (and so of one fetch), and the largest row taken whole. */
  readonly bytes: () => { readonly batch: number; readonly maxEvent: number };
  /** See deadPeerConfig. */
  readonly deadPeerTimeoutMs: number;
  readonly metrics: ReaderMetrics;
  readonly faults: FaultInjector;
  readonly log: CopyLog;
  /** Progress for the pipeline state: the table being copied and the tables left. */
  readonly onProgress: (progress: { table: string; rowsCopied: number; tablesLeft: number } | undefined) => void;
}

/** Same output settings as the replication session, so copied rows parse exactly like streamed ones. */
const OUTPUT_SETTINGS = '-c DateStyle=ISO,YMD -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex';
const CURSOR_FETCH_ROWS = 5_000;
/** The first fetch of a table, before any of its rows was seen: one (it may be 64 MB). */
const FIRST_FETCH_ROWS = 1;
/** Re-exported for the reader's callers; the buffer defines copy positions. */
export { COPY_SEQ_BASE } from '@philotes/buffer';

/** The stream a copy runs beside: see StreamingSession.fence. */
export interface CopyFence {
  fence(tableIds: readonly number[], visibility: CopyVisibility): Promise<bigint>;
}

/**
 * Where a copy stands to the stream: before it, under the snapshot exported with the slot (no
 * change streamed later is in it), or beside a running stream, under a fresh snapshot.
 */
export type CopyStartPoint =
  | { readonly before: bigint; readonly exportedSnapshot: string; readonly discardHistory?: boolean }
  // (Never discards beside the stream: its buffered changes there are this history's, some not in the copy.)
  | { readonly beside: CopyFence };

/** One table's copy as planned. */
interface TableCopy {
  readonly table: PublishedTable;
  readonly shape: PublishedShape;
  readonly state: RelationState;
  readonly copyLsn: bigint;
  readonly generation: number;
  readonly commitTime: bigint;
}

/** A table to copy, and why. */
export interface CopyTarget extends PublishedTable {
  readonly reason: CopyReason;
}

/**
 * Copies the rows already in the published tables, under one snapshot: the one exported when the
 * slot was created (the stream starts after it), or a fresh one beside the running stream (the
 * stream then leaves out its transactions the snapshot shows, for the copied tables: see
 * CopyVisibility and BackfillStore.begin). Tables finish one by one; a finished table is never
 * copied again, an interrupted one is copied again from the start.
 */
export class InitialCopy {
  constructor(private readonly deps: InitialCopyDeps) {}

  /** Copies `tables`; `signal` ends the run (its connections close, its queries reject). */
  async run(tables: readonly CopyTarget[], start: CopyStartPoint, signal?: AbortSignal): Promise<void> {
    if (tables.length === 0) return;
    const { log, metrics } = this.deps;
    const client = new Client({ ...this.deps.source, application_name: 'philotes-wal-reader-copy', ...deadPeerConfig(this.deps.deadPeerTimeoutMs, OUTPUT_SETTINGS) });
    client.on('error', (error) => log.warn('the copy connection failed', { error })); // its query rejects too
    const buffer = new Client({ connectionString: this.deps.bufferUrl, application_name: 'philotes-wal-reader-copy', ...deadPeerConfig(this.deps.deadPeerTimeoutMs) });
    buffer.on('error', (error) => log.warn('the copy\'s buffer connection failed', { error }));
    const close = (): void => {
      void client.end().catch(() => undefined);
      void buffer.end().catch(() => undefined);
    };
    signal?.addEventListener('abort', close, { once: true });
    try {
      await Promise.all([client.connect(), buffer.connect()]);
      // The copy's rows are what the source let go of: durable before they count.
      await buffer.query('SET synchronous_commit = on');
      const leader = this.deps.leader();
      const backfill = new PostgresBackfillStore(buffer, leader);
      const events = new PostgresEventStore(buffer, { leader });
      const relations = this.deps.relations(new PostgresSchemaStore(buffer));
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const exported = 'exportedSnapshot' in start ? start : undefined;
      if (exported) await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(exported.exportedSnapshot)}`);
      const snapshot = await this.snapshotOf(client, exported?.before);
      const commitTime = await this.now(client);
      log.info('copy starting', { tables: tables.length, besideStream: !exported });

      const described = [];
      for (const table of tables) {
        // What the publication streams of it, as the snapshot sees the publication.
        const shape = await SourceCatalog.publishedShape(client, this.deps.publication, table.schema, table.table);
        if (!shape) {
          log.warn('a table to copy is no longer in the publication; not copied', { table: `${table.schema}.${table.table}` });
          continue;
        }
        const columns = await SourceCatalog.columns(client, table.schema, table.table, shape.columns);
        const relation = await relations.register({ ...table, ...columns }, snapshot.lsn);
        described.push({ table, relation, shape, relationOid: columns.relationOid });
      }
      if (described.length === 0) return;
      // Beside the stream: its changes of these tables the snapshot shows stop here; those before are stored.
      const fenceLsn = 'beside' in start ? await start.beside.fence(described.map((d) => d.relation.tableId), new CopyVisibility(snapshot)) : start.before;
      const encoder = createEncoder();
      const planned = [];
      for (const { table, relation, shape, relationOid } of described) {
        const marker = { schemaVersion: relation.schemaVersion, commitTime, payload: encodePayload(encoder, { truncate: { cascade: false, restartIdentity: false } }, relation.kinds) };
        const discardHistory = exported?.discardHistory === true;
        const begun = await backfill.begin(relation.tableId, { snapshot, fenceLsn, relationOid, membershipOid: shape.membershipOid, reason: table.reason, discardHistory, marker });
        planned.push({ table, relation, shape, ...begun });
      }
      metrics.backfillTablesPending.set(planned.length);

      for (const [index, { table, relation, shape, copyLsn, generation }] of planned.entries()) {
        // One table that cannot be copied (its rows may not be read, say) waits on its own: the
        // savepoint keeps the snapshot for the others.
        await client.query('SAVEPOINT philotes_table');
        let rows: number | undefined;
        try {
          rows = await this.copyTable(client, events, { table, shape, state: relation, copyLsn, generation, commitTime }, planned.length - index);
          await client.query('RELEASE SAVEPOINT philotes_table');
        } catch (error) {
          // Only a refusal that lasts (no privilege to read it): anything else (a column renamed
          // since the snapshot, a lost connection) plans again at the next start.
          const directive = classifyError(error);
          if (directive.kind !== 'authorization') throw error;
          await client.query('ROLLBACK TO SAVEPOINT philotes_table');
          await backfill.fail(relation.tableId, generation, (error as Error).message);
          log.error('cannot copy the table; it waits, the others go on (resync it once the cause is fixed)', { table: relation.qualifiedName, kind: directive.kind, action: directive.action, error });
        }
        if (rows !== undefined) {
          await backfill.finish(this.deps.sourceId, relation.tableId, generation, rows);
          log.info('initial copy of table finished', { table: relation.qualifiedName, rowsCopied: rows });
        }
        metrics.backfillTablesPending.set(planned.length - index - 1);
      }
      await client.query('COMMIT');
      log.info('initial copy finished', { tables: planned.length });
    } finally {
      this.deps.onProgress(undefined);
      signal?.removeEventListener('abort', close);
      close();
    }
  }

  private async copyTable(client: Client, events: PostgresEventStore, copy: TableCopy, tablesLeft: number): Promise<number> {
    const { table, shape, state, copyLsn, generation, commitTime } = copy;
    const tableId = state.tableId;
    const qualified = `${client.escapeIdentifier(table.schema)}.${client.escapeIdentifier(table.table)}`;
    const encoder = createEncoder();
    const names = state.columns.map((c) => client.escapeIdentifier(c.name));
    // A partitioned root (published via the root) holds no rows itself: its partitions' rows are
    // its rows. Any other table is read alone, as its inheritance children are published apart.
    const from = shape.partitioned ? qualified : `ONLY ${qualified}`;
    // The row filter is the publication's own expression as PostgreSQL deparsed it.
    const where = shape.rowFilter ? ` WHERE ${shape.rowFilter}` : '';
    // Each row's size comes first, computed without reading its large values (see rowSizeSql): a
    // row past the limit is fetched as its size only, never as text that would not fit in memory.
    const { maxEvent } = this.deps.bytes();
    const size = rowSizeSql(state.columns, names);
    const select = size
      ? `SELECT philotes_bytes, ${names.map((name) => `CASE WHEN philotes_bytes > ${maxEvent} THEN NULL ELSE ${name} END`).join(', ')}
           FROM (SELECT ${names.join(', ')}, ${size} AS philotes_bytes FROM ${from}${where}) philotes_rows`
      : `SELECT ${['0', ...names].join(', ')} FROM ${from}${where}`; // a table may have no columns at all
    await client.query(`DECLARE philotes_copy NO SCROLL CURSOR FOR ${select}`);
    let copied = 0;
    let batchBytes = 0;
    // How many rows a fetch may take: a batch's bytes over the largest row of the last fetch (or
    // four times their average, were that larger), starting at one and growing at most fourfold
    // per fetch (5,000 after seven), so a table of large rows never arrives thousands at a time. (A run of rows far
    // larger than the ones before can still make one fetch hold that many of them; a row over
    // PHILOTES_CDC_MAX_EVENT_BYTES never arrives whole.)
    let fetch = FIRST_FETCH_ROWS;
    // The copy's TRUNCATE went with its plan (BackfillStore.begin); here come its rows.
    let batch: BufferedEvent[] = [];
    const flush = async (): Promise<void> => {
      await events.commitCopy(this.deps.sourceId, tableId, generation, batch, copied);
      this.deps.metrics.backfillRows.inc({ table: state.qualifiedName }, batch.length);
      this.deps.faults.hit('reader.copy-batch');
      batch = [];
      batchBytes = 0;
      this.deps.onProgress({ table: state.qualifiedName, rowsCopied: copied, tablesLeft });
    };
    for (;;) {
      // Raw text for every column: the same parsers as the stream then read it.
      const result = await client.query<string[]>({ text: `FETCH ${fetch} FROM philotes_copy`, rowMode: 'array', types: { getTypeParser: () => (text: string) => text } });
      let fetchedBytes = 0;
      let largest = 0;
      for (const row of result.rows) {
        const bytes = Number(row[0]);
        const oversized = size !== undefined && bytes > maxEvent;
        let payload: Uint8Array;
        if (oversized) {
          this.deps.metrics.oversizedEvents.inc({ table: state.qualifiedName });
          this.deps.log.warn('a copied row is larger than PHILOTES_CDC_MAX_EVENT_BYTES: stored as its size only, for the dead letters', { table: state.qualifiedName, bytes, limitBytes: maxEvent });
          payload = encodePayload(encoder, { oversized: bytes }, state.kinds);
        } else {
          const after = tupleValues(row.slice(1), state, (column) => this.deps.log.warn('a value did not parse as its column type; kept as text', { table: state.qualifiedName, column }));
          payload = encodePayload(encoder, { after }, state.kinds);
        }
        const rowBytes = oversized ? 0 : Math.max(bytes, payload.length);
        fetchedBytes += rowBytes;
        largest = Math.max(largest, rowBytes);
        batch.push({ tableId, commitLsn: copyLsn, seq: copyRowSeq(copied), op: 'R', xid: null, commitTime, schemaVersion: state.schemaVersion, payload });
        batchBytes += payload.length;
        copied++;
        if (batch.length >= this.deps.batchSize() || batchBytes >= this.deps.bytes().batch) await flush();
      }
      if (result.rows.length < fetch) break;
      const estimate = Math.max(1, largest, (4 * fetchedBytes) / result.rows.length);
      fetch = Math.max(1, Math.min(CURSOR_FETCH_ROWS, fetch * 4, Math.floor(this.deps.bytes().batch / estimate)));
    }
    await flush();
    await client.query('CLOSE philotes_copy');
    return copied;
  }

  /**
   * The snapshot in force, and the WAL position after it (or the slot's start for an exported
   * snapshot). The *insert* position: with asynchronous commit a transaction is visible as soon as
   * its commit record is inserted, before it is written, so the write position can lie before the
   * commit of a transaction the snapshot already shows.
   */
  private async snapshotOf(client: Client, exportedAt: bigint | undefined): Promise<CopySnapshot> {
    const { rows } = await client.query<{ snapshot: string; lsn: string }>('SELECT pg_current_snapshot()::text AS snapshot, pg_current_wal_insert_lsn()::text AS lsn');
    const [xmin, xmax, xip] = rows[0].snapshot.split(':');
    return {
      lsn: exportedAt ?? parseLsn(rows[0].lsn),
      xmin: BigInt(xmin),
      xmax: BigInt(xmax),
      xip: xip ? xip.split(',').filter(Boolean).map(BigInt) : [],
    };
  }

  /** The snapshot's time as PostgreSQL-epoch microseconds: the commit time copied rows carry. */
  private async now(client: Client): Promise<bigint> {
    const { rows } = await client.query<{ micros: string }>(`SELECT ${pgMicrosOfTimestamptz('now()')}::text AS micros`);
    return BigInt(rows[0].micros);
  }
}

/** Kinds whose values may be large (varlena): the ones a row's size is summed over. */
const LARGE: ReadonlySet<string> = new Set(['text', 'bytea', 'json', 'jsonb', 'array', 'numeric']);
/** Text types whose octet_length is their printed size (types kept as text by fallback print otherwise). */
const PLAIN_TEXT: ReadonlySet<string> = new Set(['text', 'varchar', 'bpchar']);

/**
 * SQL: a row's size as its text will be, near enough, read without detoasting any value:
 * `octet_length` of text and bytea reads a TOASTed value's header (bytea prints as hex, twice its
 * bytes), `pg_column_size` gives the others' stored size. Undefined for a table with no such
 * column (its rows are small: nothing to guard).
 */
function rowSizeSql(columns: readonly { readonly kind: string; readonly typeName: string }[], names: readonly string[]): string | undefined {
  const parts = columns.flatMap((column, i) => {
    if (!LARGE.has(column.kind)) return [];
    if (column.kind === 'bytea') return [`2 * coalesce(octet_length(${names[i]}), 0)::bigint`];
    if (column.kind === 'text' && PLAIN_TEXT.has(column.typeName)) return [`coalesce(octet_length(${names[i]}), 0)::bigint`];
    return [`coalesce(pg_column_size(${names[i]}), 0)::bigint`];
  });
  return parts.length > 0 ? `(${parts.join(' + ')})` : undefined;
}
