import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Pool } from 'pg';
import { createObjectStore, IcebergTables, SqlCatalog } from '@philotes/iceberg';
import { checkKeyIndex } from '@philotes/writer';
import { BEFORE_COPY_SEQ } from '@philotes/buffer';
import { AppProcess } from '../support/app-process';
import { bufferedEvents, CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { duckdb } from '../support/iceberg';
import { eventually } from '../support/eventually';
import { seededRandom, Workload } from '../support/workload';
import { byKey, readIcebergTable, startWriter, tempWarehouse, waitWriterCaughtUp, warehouseUri } from '../support/writer';

const SEED = Number(process.env.PHILOTES_TEST_SEED ?? 20261121);
const FAULT_POINTS = [
  'writer.after-data-files',
  'writer.after-manifests',
  'writer.after-metadata',
  'writer.before-swap',
  'writer.after-swap',
  'writer.after-offset',
  'writer.after-commit',
];

/**
 * Real: source and buffer PostgreSQL, the built reader streaming a running workload, and the
 * built writer killed with SIGKILL at every point of its commit path (fault injection) and from
 * outside at random moments. After every crash the catalog and the writer's progress must agree;
 * after the last restart the mirrored table must equal the source, and the change-log table must
 * hold every buffered change exactly once.
 */
describe('iceberg-writer: kill -9 anywhere in the commit path loses and duplicates nothing', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let logSource: Client;
  let reader: RunningReader;
  let writer: AppProcess | undefined;
  const warehouse = tempWarehouse();
  const workloads: Workload[] = [];
  const writerOutput: string[] = [];
  const settings = (extra: Record<string, string> = {}) => ({
    PHILOTES_ICEBERG_TABLE_MODES: 'public.items_log=append',
    // Small commits, so every crash lands mid-stream with more to come.
    PHILOTES_ICEBERG_TARGET_FILE_SIZE: '16KB',
    PHILOTES_CDC_BATCH_SIZE: '200',
    PHILOTES_LOG_LEVEL: 'debug',
    ...extra,
  });

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    logSource = await sourceClient(dbs);
    await source.query('CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, note text); CREATE TABLE items_log (id bigint PRIMARY KEY, v int NOT NULL, note text)');
    // Rows before the reader starts arrive as the initial copy.
    await source.query("INSERT INTO items SELECT g, g % 97, 'seed' FROM generate_series(1, 2000) g");
    reader = await startReader(dbs, { PHILOTES_BACKPRESSURE_ENABLED: 'false' });
    workloads.push(new Workload(source, { table: 'items', seed: SEED, bigEvery: 25, bigRows: 300, firstId: 2001, pauseMs: 5, existingIds: Array.from({ length: 2000 }, (_, i) => i + 1) }));
    workloads.push(new Workload(logSource, { table: 'items_log', seed: SEED + 1, bigEvery: 40, bigRows: 200, firstId: 1, pauseMs: 5 }));
    for (const workload of workloads) workload.start();
  });

  afterAll(async () => {
    for (const workload of workloads) await workload.stop().catch(() => undefined);
    await writer?.stop();
    await reader?.process.stop();
    await source?.end();
    await logSource?.end();
    await dbs?.drop();
  });

  /** The invariant no crash may break: each table's current snapshot records exactly the writer's position. */
  async function expectCatalogMatchesProgress(): Promise<void> {
    const rows = await query<{ table_name: string; metadata_location: string; lsn: string; seq: string }>(
      dbs.buffer.url,
      `SELECT t.table_name, c.metadata_location, p.applied_lsn::text AS lsn, p.applied_seq::text AS seq
         FROM cdc_writer_progress p JOIN cdc_tables t USING (table_id)
         JOIN iceberg_tables c ON c.table_namespace = t.schema_name AND c.table_name = t.table_name`,
    );
    for (const row of rows) {
      const metadata = JSON.parse(readFileSync(fileURLToPath(row.metadata_location), 'utf8')) as {
        'current-snapshot-id': number;
        snapshots: Array<{ 'snapshot-id': number; summary: Record<string, string> }>;
      };
      const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
      // Created, then killed before its first commit (the copy's): nothing applied, by both accounts.
      if (!current) {
        expect({ table: row.table_name, seq: row.seq }).toEqual({ table: row.table_name, seq: String(BEFORE_COPY_SEQ) });
        continue;
      }
      expect({ table: row.table_name, lsn: current?.summary['philotes.source-lsn'], seq: current?.summary['philotes.source-seq'] }).toEqual({
        table: row.table_name,
        lsn: row.lsn,
        seq: row.seq,
      });
    }
  }

  /** On failure only: where a duplicated key's rows live, and what the buffer holds for it. */
  async function explainDuplicates(table: NonNullable<Awaited<ReturnType<typeof readIcebergTable>>>): Promise<void> {
    const seen = new Set<string>();
    const duplicate = table.rows.map((r) => String(r.id)).find((id) => (seen.has(id) ? true : (seen.add(id), false)));
    const data = table.files.map((f) => ({ ...f, path: fileURLToPath(f.path) }));
    const rows = await duckdb<{ filename: string }>(
      `SELECT filename FROM read_parquet([${data.filter((f) => f.content === 0).map((f) => `'${f.path}'`).join(', ')}], filename = true) WHERE id = ${duplicate}`,
    );
    const deletes = await duckdb<{ filename: string }>(
      `SELECT filename FROM read_parquet([${data.filter((f) => f.content !== 0).map((f) => `'${f.path}'`).join(', ')}], filename = true) WHERE id = ${duplicate}`,
    ).catch(() => []);
    const events = (await bufferedEvents(dbs.buffer.url)).filter((e) => e.table === 'public.items' && String((e.after ?? e.before)?.id) === duplicate);
    const spans = await duckdb<Record<string, unknown>>(
      `SELECT filename, min(id)::varchar AS lo, max(id)::varchar AS hi, count(*)::varchar AS n FROM read_parquet([${data.filter((f) => f.content === 0).map((f) => `'${f.path}'`).join(', ')}], filename = true) GROUP BY 1 ORDER BY 2`,
    );
    process.stderr.write(`${JSON.stringify(events.map((e) => ({ op: e.op, lsn: e.commitLsn.toString(16), seq: e.seq })))}\n${JSON.stringify(spans.map((s) => ({ ...s, seq: data.find((f) => f.path === s.filename)?.sequenceNumber, filename: String(s.filename).slice(-70) })), null, 1)}\n`);
    const where = (files: Array<{ filename: string }>) => files.map((r) => data.find((f) => f.path === r.filename)).map((f) => ({ path: f?.path.slice(-60), seq: f?.sequenceNumber }));
    process.stderr.write(`${writerOutput.join('\n')}\n`);
    throw new Error(`id ${duplicate} appears twice: data in ${JSON.stringify(where(rows))}, deletes in ${JSON.stringify(where(deletes))}; writer said:\n${writer?.output.slice(-20).join('\n')}`);
  }

  async function runUntilKilled(faults: string): Promise<void> {
    writer = (await startWriter(dbs, warehouse, settings({ PHILOTES_FAULTS: faults }))).process;
    writerOutput.push(`--- writer with ${faults}`);
    const output = writer.output;
    const exit = await eventually(`the writer to crash at ${faults}`, async () => (writer!.running ? undefined : writer!.exit()), { timeoutMs: 60_000 }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the writer said:\n${writer!.output.slice(-30).join('\n')}`);
    });
    writerOutput.push(...output.filter((l) => l.includes('"committed"') && l.includes('public.items"')));
    expect(exit.signal).toBe('SIGKILL');
    expect(writer.output.join('\n')).toContain(`fault injection: crashing at ${faults.split(':')[0]}`);
    await expectCatalogMatchesProgress();
  }

  it('mirrors the source and logs every change once after crashes at seven points and random kills', async () => {
    for (const point of FAULT_POINTS) await runUntilKilled(`${point}:3`);

    // Kills from outside, at random moments of whatever the writer is doing.
    const random = seededRandom(SEED);
    for (let i = 0; i < 3; i++) {
      writer = (await startWriter(dbs, warehouse, settings())).process;
      await writer.waitForLog('a table lease', (line) => line.message === 'took the table');
      await new Promise<void>((resolve) => setTimeout(resolve, 200 + Math.floor(random() * 800)));
      writer.signal('SIGKILL');
      await writer.exit();
      await expectCatalogMatchesProgress();
    }

    writer = (await startWriter(dbs, warehouse, settings())).process;
    for (const workload of workloads) await workload.stop();
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    await expectCatalogMatchesProgress();

    const items = await readIcebergTable(dbs.buffer.url, 'public', 'items');
    const expected = await query<{ id: string; v: number; note: string }>(dbs.source.url, 'SELECT id::text AS id, v, note FROM items ORDER BY id');
    const actual = byKey(items!.rows, 'id');
    if (items!.rows.length !== actual.size) await explainDuplicates(items!);
    expect(items!.rows).toHaveLength(actual.size);
    expect(actual.size).toBe(expected.length);
    const wrong = expected.filter((row) => {
      const got = actual.get(row.id);
      return !got || got.v !== row.v || got.note !== row.note;
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    // Deleted by position: the key index, changed in every commit's transaction, matches the files after every kill.
    const metadata = JSON.parse(readFileSync(fileURLToPath(items!.metadataLocation), 'utf8')) as { properties: Record<string, string> };
    expect(metadata.properties['philotes.deletes']).toBe('position');
    expect(items!.files.filter((f) => f.content === 2)).toEqual([]);
    const pool = new Pool({ connectionString: dbs.buffer.url, max: 2 });
    try {
      const tables = new IcebergTables(createObjectStore(warehouseUri(warehouse), { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes', pool));
      const [{ table_id: tableId }] = await query<{ table_id: number }>(dbs.buffer.url, "SELECT table_id FROM cdc_tables WHERE table_name = 'items'");
      expect(await checkKeyIndex(pool, tables, tableId, { namespace: 'public', name: 'items' })).toMatchObject({ ok: true, missing: 0, misplaced: 0, extra: 0 });
    } finally {
      await pool.end();
    }

    // The change log: every buffered event of items_log exactly once, with its operation and row.
    const log = await readIcebergTable(dbs.buffer.url, 'public', 'items_log');
    const events = await query<{ position: string; op: string }>(
      dbs.buffer.url,
      `SELECT (commit_lsn - '0/0')::text || '/' || seq AS position, op FROM cdc_events JOIN cdc_tables USING (table_id) WHERE table_name = 'items_log' ORDER BY commit_lsn, seq`,
    );
    const logged = log!.rows.map((r) => `${String(r._cdc_lsn)}/${String(r._cdc_seq)}`);
    expect(new Set(logged).size).toBe(logged.length);
    expect(logged.sort()).toEqual(events.map((e) => e.position).sort());
    const final = await query<{ id: string; v: number }>(dbs.source.url, 'SELECT id::text AS id, v FROM items_log');
    const lastById = new Map<string, { op: unknown; v: unknown; lsn: bigint; seq: bigint }>();
    for (const row of log!.rows) {
      const [lsn, seq] = [row._cdc_lsn as bigint, row._cdc_seq as bigint];
      if (row._cdc_op === 'T' && seq < 0n) continue; // the copy's opening TRUNCATE, before every row
      const previous = lastById.get(String(row.id));
      if (!previous || previous.lsn < lsn || (previous.lsn === lsn && previous.seq < seq)) lastById.set(String(row.id), { op: row._cdc_op, v: row.v, lsn, seq });
    }
    const live = [...lastById].filter(([, last]) => last.op !== 'D');
    expect(live.length).toBe(final.length);
    for (const row of final) expect(lastById.get(row.id)?.v).toBe(row.v);
  });
});
