import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Pool } from 'pg';
import { createObjectStore, IcebergTables, SqlCatalog } from '@philotes/iceberg';
import { formatReport, verifyPipeline } from '@philotes/verify';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { Cell, duckdbRows } from '../support/generative/duckdb-table';
import { icebergCanonical } from '../support/generative/values';
import { duckdb } from '../support/iceberg';
import { IcebergTableState, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp, warehouseUri } from '../support/writer';

/**
 * Format version 3 through the built apps: a table created at v3 by its own setting, another
 * upgraded from v2 by the global one, and a v3 table asked for 2 (kept at 3). What the metadata
 * says is read from the JSON the catalog names; the manifests by icebird's Avro reader; each row's
 * lineage (`_row_id`, `_last_updated_sequence_number`) by DuckDB over the manifest-listed files,
 * inherited values worked out from the manifests as the spec says, not by the writer's code.
 */

interface Snapshot {
  readonly 'snapshot-id': number;
  readonly 'sequence-number': number;
  readonly 'first-row-id'?: number;
  readonly 'added-rows'?: number;
  readonly summary: Record<string, string>;
}

interface Metadata {
  readonly 'format-version': number;
  readonly 'next-row-id'?: number;
  readonly 'last-sequence-number': number;
  readonly properties: Record<string, string>;
  readonly snapshots: Snapshot[];
}

const metadataOf = (state: IcebergTableState) => JSON.parse(readFileSync(fileURLToPath(state.metadataLocation), 'utf8')) as Metadata;

describe('iceberg-writer format version 3 (row lineage)', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter | undefined;
  let source: Client;
  const warehouse = tempWarehouse();

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE items (id int PRIMARY KEY, v text, ts timestamptz, b bytea, n numeric(12,2))');
    await source.query('CREATE TABLE plain (id int PRIMARY KEY, v text)');
    await source.query(
      "INSERT INTO items SELECT g, 'v' || g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour', decode(lpad(to_hex(g), 8, '0'), 'hex'), g * 1.25 FROM generate_series(1, 300) g",
    );
    await source.query("INSERT INTO plain SELECT g, 'p' || g FROM generate_series(1, 200) g");
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await source?.end();
    await dbs?.drop();
  });

  const table = async (name: string): Promise<IcebergTableState> => (await readIcebergTable(dbs.buffer.url, 'public', name))!;

  /** The table, read by icebird and by DuckDB (with each row's lineage), equals the source. */
  async function mirrored(name: string, state: IcebergTableState): Promise<Map<string, { rowId: Cell; sequence: Cell }>> {
    const columns = name === 'items' ? ['id', 'v', 'ts', 'b', 'n'] : ['id', 'v'];
    const expected = await query<{ id: number; v: string }>(dbs.source.url, `SELECT id, v FROM ${name} ORDER BY id`);
    // icebird 0.3.1 reads no deletion vectors: a table with them is read by DuckDB with the vectors decoded by CRoaring.
    const vectors = state.files.some((f) => f.fileFormat === 'puffin');
    expect(state.rowsUnread !== undefined).toBe(vectors);
    if (!vectors) {
      const icebird = state.rows.map((r) => `${String(r.id)}|${String(r.v)}`).sort();
      expect(icebird).toEqual(expected.map((r) => `${r.id}|${r.v}`).sort());
    }
    const duck = await duckdbRows(state.metadataLocation, state.files, icebergCanonical, { lineage: true });
    expect(duck.map((r) => `${r.id}|${r.v}`).sort()).toEqual(expected.map((r) => `${r.id}|${r.v}`).sort());
    // Every column came through (the timestamp, bytes and numeric too), not null where the source is not.
    for (const row of duck) for (const column of columns) expect([row.id, column, row[column] === null]).toEqual([row.id, column, false]);
    return new Map(duck.map((r) => [r.id!, { rowId: r._row_id, sequence: r._last_updated_sequence_number }]));
  }

  /** Row ids as a v3 table must have them: every live row one of its own, below next-row-id; sequence numbers the table has reached. */
  function expectLineage(metadata: Metadata, lineage: ReadonlyMap<string, { rowId: Cell; sequence: Cell }>): void {
    const ids = [...lineage.values()].map((l) => l.rowId);
    expect(ids.filter((i) => i === null)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((i) => BigInt(i!) < 0n || BigInt(i!) >= BigInt(metadata['next-row-id']!))).toEqual([]);
    expect([...lineage.values()].filter((l) => l.sequence === null || Number(l.sequence) < 1 || Number(l.sequence) > metadata['last-sequence-number'])).toEqual([]);
  }

  /** Snapshots since the upgrade chain their row ids: each starts where the one before ended, and next-row-id is past the last. */
  function expectSnapshotRowIds(metadata: Metadata): void {
    const lineaged = metadata.snapshots.filter((s) => s['first-row-id'] !== undefined);
    expect(lineaged.length).toBeGreaterThan(0);
    for (let i = 1; i < lineaged.length; i++) expect(lineaged[i]['first-row-id']).toBe(lineaged[i - 1]['first-row-id']! + lineaged[i - 1]['added-rows']!);
    const last = lineaged.at(-1)!;
    expect(metadata['next-row-id']).toBe(last['first-row-id']! + last['added-rows']!);
  }

  let before: Map<string, { rowId: Cell; sequence: Cell }>;
  let beforeFiles: Set<string>;

  it('creates the table a setting asks v3 for as v3 with row lineage, and leaves the others at v2', async () => {
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_TABLE_PROPERTIES: 'public.items:format-version=3', PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h' });
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
    await waitWriterCaughtUp(dbs.buffer.url);
    // Streamed after the copy, in one transaction each: updates and deletes (deletion vectors), inserts.
    await source.query("UPDATE items SET v = v || '-u' WHERE id % 10 = 0");
    await source.query('DELETE FROM items WHERE id % 17 = 0');
    await source.query("INSERT INTO items SELECT g, 'late' || g, now(), '\\x00ff', 1 FROM generate_series(301, 340) g");
    await source.query("UPDATE plain SET v = v || '-u' WHERE id % 9 = 0");
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    const items = await table('items');
    const metadata = metadataOf(items);
    expect(metadata['format-version']).toBe(3);
    expect(metadata.properties['format-version']).toBeUndefined();
    expectSnapshotRowIds(metadata);
    // The manifest list: a first_row_id for each data manifest, none for delete manifests.
    expect(items.manifests.filter((m) => (m.content === 0) !== (m.firstRowId !== undefined))).toEqual([]);
    // Deletes by deletion vector (a v3 table deleting by position): no equality delete, no position delete file.
    expect(items.files.some((f) => f.content === 1 && f.fileFormat === 'puffin')).toBe(true);
    expect(items.files.filter((f) => f.content === 2 || (f.content === 1 && f.fileFormat !== 'puffin'))).toEqual([]);
    before = await mirrored('items', items);
    beforeFiles = new Set(items.files.map((f) => f.path));
    expectLineage(metadata, before);
    // An updated row is a new row: its commit's sequence number, later than the copy's.
    const copySequence = metadata.snapshots[0]['sequence-number'];
    expect(before.get('10')!.sequence).not.toBe(String(copySequence));
    expect(before.get('11')!.sequence).toBe(String(copySequence));

    const plain = await table('plain');
    expect(metadataOf(plain)['format-version']).toBe(2);
    expect(metadataOf(plain)['next-row-id']).toBeUndefined();
    const plainLineage = await mirrored('plain', plain);
    expect([...plainLineage.values()].filter((l) => l.rowId !== null)).toEqual([]);
  });

  it('upgrades a v2 table by its next commit when the global setting asks for 3, keeps a v3 table asked for 2 at 3, and compaction keeps every row its lineage', async () => {
    await writer!.process.stop();
    writer = await startWriter(dbs, warehouse, {
      PHILOTES_ICEBERG_FORMAT_VERSION: '3',
      PHILOTES_ICEBERG_TABLE_PROPERTIES: 'public.items:format-version=2',
      PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '1s',
      PHILOTES_ICEBERG_COMPACTION_MIN_FILES: '2',
    });
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
    await source.query("INSERT INTO plain VALUES (201, 'after'); UPDATE plain SET v = 'again' WHERE id = 5");
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    const plain = await eventually('plain upgraded to v3', async () => {
      const state = await table('plain');
      return metadataOf(state)['format-version'] === 3 ? state : undefined;
    });
    const plainMetadata = metadataOf(plain);
    expectSnapshotRowIds(plainMetadata);
    // Snapshots before the upgrade stay without row ids (spec, Row Lineage for Upgraded Tables).
    expect(plainMetadata.snapshots[0]['first-row-id']).toBeUndefined();
    expectLineage(plainMetadata, await mirrored('plain', plain));

    // items: its deletes compacted away, with no change to it since.
    const items = await eventually(
      'items compacted',
      async () => {
        const state = await table('items');
        return state.files.every((f) => f.content === 0) ? state : undefined;
      },
      { timeoutMs: 90_000 },
    );
    const metadata = metadataOf(items);
    expect(metadata['format-version']).toBe(3);
    expect(metadata.snapshots.at(-1)!.summary.operation).toBe('replace');
    expectSnapshotRowIds(metadata);
    const after = await mirrored('items', items);
    expectLineage(metadata, after);
    // The same id and last-changed sequence number for every row: rewritten, not changed.
    expect([...after].filter(([id, lineage]) => JSON.stringify(before.get(id)) !== JSON.stringify(lineage))).toEqual([]);
    // Written out in the rewritten files (both columns, by field id), not inherited from them.
    const rewritten = items.files.filter((f) => !beforeFiles.has(f.path));
    expect(rewritten.length).toBeGreaterThan(0);
    for (const file of rewritten) {
      const ids = (await duckdb<{ field_id: number | null }>(`SELECT field_id FROM parquet_schema('${fileURLToPath(file.path)}')`)).map((c) => Number(c.field_id));
      expect([file.path, ids.includes(2147483540), ids.includes(2147483539)]).toEqual([file.path, true, true]);
    }

    // Written again while its setting asks for 2: still v3, and the writer says so once.
    for (const id of [1, 2]) {
      await source.query(`UPDATE items SET v = 'w' WHERE id = ${id}`);
      await waitCaughtUp(dbs);
      await waitWriterCaughtUp(dbs.buffer.url);
    }
    const written = await table('items');
    expect(metadataOf(written)['format-version']).toBe(3);
    expectLineage(metadataOf(written), await mirrored('items', written));
    expect(writer.process.logs.filter((line) => JSON.stringify(line).includes('never downgraded'))).toHaveLength(1);

    // verify reads v3 tables as it reads v2 ones.
    const buffer = new Pool({ connectionString: dbs.buffer.url, max: 2 });
    try {
      const tables = new IcebergTables(createObjectStore(warehouseUri(warehouse), { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes', buffer));
      const verdicts = await verifyPipeline({ source: { connectionString: dbs.source.url }, buffer, tables, namespace: '', textColumns: new Set(), unrepresentable: 'reject', timeoutMs: 30_000 });
      expect(formatReport(verdicts)).toMatch(/2 tables verified: no differences/);
    } finally {
      await buffer.end();
    }
  });
});
