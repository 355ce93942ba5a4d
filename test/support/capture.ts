import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ColumnSchema, createDecoder, decodePayload, CdcValue } from '@philotes/events';
import { formatLsn, parseLsn } from '@philotes/pgoutput';

import { AppProcess } from './app-process';
import { createTestDatabase, query, TestDatabase } from './database';
import { eventually } from './eventually';
import { testPort } from './ports';

/** A source database and a buffer database for one test, with a slot name of its own. */
export interface CaptureDatabases {
  readonly source: TestDatabase;
  readonly buffer: TestDatabase;
  readonly slot: string;
  readonly publication: string;
  drop(): Promise<void>;
}

export async function createCaptureDatabases(): Promise<CaptureDatabases> {
  const source = await createTestDatabase('philotes_src');
  const buffer = await createTestDatabase('philotes_buf');
  const suffix = randomBytes(4).toString('hex');
  return {
    source,
    buffer,
    slot: `slot_${suffix}`,
    publication: `pub_${suffix}`,
    drop: async () => {
      await source.drop();
      await buffer.drop();
    },
  };
}

/** Settings for a reader under test: short intervals so tests wait milliseconds, not seconds. */
export function readerEnv(dbs: CaptureDatabases, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PHILOTES_DATABASE_URL: dbs.buffer.url,
    PHILOTES_CDC_SOURCE_URL: dbs.source.url,
    PHILOTES_CDC_SOURCE_ID: 'test',
    PHILOTES_CDC_REPLICATION_SLOT: dbs.slot,
    PHILOTES_CDC_PUBLICATION: dbs.publication,
    PHILOTES_CDC_FLUSH_INTERVAL: '50ms',
    PHILOTES_CDC_CHECKPOINT_INTERVAL: '200ms',
    PHILOTES_BACKPRESSURE_CHECK_INTERVAL: '100ms',
    PHILOTES_HEARTBEAT_INTERVAL: '300ms',
    PHILOTES_RETRY_INITIAL_INTERVAL: '100ms',
    PHILOTES_RETRY_MAX_INTERVAL: '1s',
    ...extra,
  };
}

export interface RunningReader {
  readonly process: AppProcess;
  readonly base: string;
}

export async function startReader(dbs: CaptureDatabases, extra: Record<string, string> = {}): Promise<RunningReader> {
  const port = await testPort();
  const process = AppProcess.start('wal-reader', readerEnv(dbs, { PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${port}`, ...extra }));
  return { process, base: `http://127.0.0.1:${port}` };
}

/** An event of the buffer, decoded with its table's schema version. */
export interface DecodedEvent {
  readonly table: string;
  readonly op: string;
  readonly commitLsn: bigint;
  readonly seq: number;
  /** Written by a copy (its opening TRUNCATE or a row): copies take negative positions, streamed events never. */
  readonly copied: boolean;
  readonly xid: number | null;
  readonly after?: Record<string, CdcValue>;
  readonly before?: Record<string, CdcValue>;
  readonly beforeIsKeyOnly?: boolean;
  readonly truncate?: { cascade: boolean; restartIdentity: boolean };
}

/** Every event in the buffer, in source commit order (copied rows first). */
export async function bufferedEvents(bufferUrl: string): Promise<DecodedEvent[]> {
  const schemas = await query<{ table_id: number; version: number; columns: ColumnSchema[] }>(bufferUrl, 'SELECT table_id, version, columns FROM cdc_schema_history');
  const columnsOf = new Map(schemas.map((s) => [`${s.table_id}/${s.version}`, s.columns]));
  const rows = await query<{ table_id: number; name: string; op: string; commit_lsn: string; seq: string; xid: string | null; schema_version: number; payload: Buffer }>(
    bufferUrl,
    `SELECT e.table_id, t.schema_name || '.' || t.table_name AS name, e.op, e.commit_lsn::text, e.seq::text, e.xid::text, e.schema_version, e.payload
       FROM cdc_events e JOIN cdc_tables t USING (table_id) ORDER BY e.commit_lsn, e.seq, e.table_id`,
  );
  const decoder = createDecoder();
  return rows.map((row) => {
    const columns = columnsOf.get(`${row.table_id}/${row.schema_version}`);
    if (!columns) throw new Error(`no schema version ${row.schema_version} for table ${row.name}`);
    const payload = decodePayload(decoder, row.payload, columns);
    const named = (values: readonly CdcValue[] | undefined) => (values ? Object.fromEntries(columns.map((c, i) => [c.name, values[i]])) : undefined);
    return {
      table: row.name,
      op: row.op,
      commitLsn: parseLsn(row.commit_lsn),
      seq: Number(row.seq),
      copied: Number(row.seq) < 0,
      xid: row.xid === null ? null : Number(row.xid),
      ...(payload.after ? { after: named(payload.after) } : {}),
      ...(payload.before ? { before: named(payload.before), beforeIsKeyOnly: payload.beforeIsKeyOnly ?? false } : {}),
      ...(payload.truncate ? { truncate: payload.truncate } : {}),
    };
  });
}

/** Waits until the buffer's checkpoint covers everything the source has written so far. */
export async function waitCaughtUp(dbs: CaptureDatabases, timeoutMs = 60_000): Promise<void> {
  // The insert position: asynchronously committed transactions may not be written yet.
  const [{ lsn }] = await query<{ lsn: string }>(dbs.source.url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
  const target = parseLsn(lsn);
  await eventually(
    `the buffer checkpoint to reach ${formatLsn(target)}`,
    async () => {
      const rows = await query<{ confirmed_lsn: string; partial: boolean }>(dbs.buffer.url, 'SELECT confirmed_lsn::text, partial_commit_lsn IS NOT NULL AS partial FROM cdc_checkpoints');
      return rows.length === 1 && !rows[0].partial && parseLsn(rows[0].confirmed_lsn) >= target;
    },
    { timeoutMs },
  );
}

/** Applies buffered events to rebuild each table's final image, keyed by the given key column. */
export function finalImage(events: readonly DecodedEvent[], table: string, key: string): Map<string, Record<string, CdcValue>> {
  const rows = new Map<string, Record<string, CdcValue>>();
  for (const event of events) {
    if (event.table !== table) continue;
    if (event.op === 'T') rows.clear();
    if (event.op === 'D' && event.before) rows.delete(String(event.before[key]));
    if ((event.op === 'I' || event.op === 'R' || event.op === 'U') && event.after) {
      if (event.op === 'U' && event.before && String(event.before[key]) !== String(event.after[key])) rows.delete(String(event.before[key]));
      rows.set(String(event.after[key]), event.after);
    }
  }
  return rows;
}

/** A client for running a workload on the source. */
export async function sourceClient(dbs: CaptureDatabases): Promise<Client> {
  const client = new Client({ connectionString: dbs.source.url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
