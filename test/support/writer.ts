import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { AppProcess } from './app-process';
import { CaptureDatabases } from './capture';
import { query } from './database';
import { eventually } from './eventually';
import { IcebirdFile, IcebirdRow, ListedManifest, readTableWithIcebird } from './iceberg';
import { testPort } from './ports';

/** A fresh local warehouse directory for one test. */
export function tempWarehouse(): string {
  return mkdtempSync(join(tmpdir(), 'philotes-warehouse-'));
}

/** Settings for a writer under test: short intervals so tests wait milliseconds, not seconds. */
export function writerEnv(dbs: CaptureDatabases, warehouse: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PHILOTES_DATABASE_URL: dbs.buffer.url,
    PHILOTES_ICEBERG_WAREHOUSE: warehouse,
    PHILOTES_CDC_FLUSH_INTERVAL: '100ms',
    PHILOTES_HEARTBEAT_INTERVAL: '300ms',
    PHILOTES_RETRY_INITIAL_INTERVAL: '100ms',
    PHILOTES_RETRY_MAX_INTERVAL: '1s',
    ...extra,
  };
}

export interface RunningWriter {
  readonly process: AppProcess;
  readonly base: string;
}

export async function startWriter(dbs: CaptureDatabases, warehouse: string, extra: Record<string, string> = {}): Promise<RunningWriter> {
  const port = await testPort();
  const process = AppProcess.start('iceberg-writer', writerEnv(dbs, warehouse, { PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${port}`, ...extra }));
  return { process, base: `http://127.0.0.1:${port}` };
}

/** Waits until every buffered event of every table is applied (or dead-lettered) by the writers. */
export async function waitWriterCaughtUp(bufferUrl: string, timeoutMs = 120_000): Promise<void> {
  await eventually(
    'the writers to apply every buffered event',
    async () => {
      const [{ behind }] = await query<{ behind: string }>(
        bufferUrl,
        `SELECT count(*)::text AS behind FROM cdc_events e LEFT JOIN cdc_writer_progress p USING (table_id)
          WHERE p.table_id IS NULL OR (e.commit_lsn, e.seq) > (p.applied_lsn, p.applied_seq)`,
      );
      return behind === '0';
    },
    { timeoutMs, intervalMs: 200 },
  );
}

export interface IcebergTableState {
  readonly metadataLocation: string;
  readonly tableLocation: string;
  readonly rows: IcebirdRow[];
  readonly files: IcebirdFile[];
  readonly manifests: ListedManifest[];
  /** Set when icebird could not read the rows (deletion vectors): `rows` is then empty, not the table. */
  readonly rowsUnread?: string;
}

/** The table as the SQL catalog names it, read by icebird; undefined when it does not exist. */
export async function readIcebergTable(
  bufferUrl: string,
  namespace: string,
  name: string,
  { catalog = 'philotes', s3Endpoint }: { catalog?: string; s3Endpoint?: string } = {},
): Promise<IcebergTableState | undefined> {
  const [row] = await query<{ metadata_location: string }>(
    bufferUrl,
    'SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3',
    [catalog, namespace, name],
  );
  if (!row) return undefined;
  const tableLocation = row.metadata_location.slice(0, row.metadata_location.lastIndexOf('/metadata/'));
  return { metadataLocation: row.metadata_location, tableLocation, ...(await readTableWithIcebird(tableLocation, row.metadata_location, s3Endpoint)) };
}

/** A warehouse path as the file URI the metadata records. */
export function warehouseUri(warehouse: string): string {
  return pathToFileURL(warehouse).href;
}

/** Rows keyed by a column's text form (icebird returns longs as bigint). */
export function byKey(rows: readonly IcebirdRow[], key: string): Map<string, IcebirdRow> {
  return new Map(rows.map((row) => [String(row[key]), row]));
}
