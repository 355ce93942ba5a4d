import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Pool } from 'pg';

import { parseLsn } from '@philotes/pgoutput';
import { icebergIdentifier } from '@philotes/table-mapping';
import { api, RunningAdmin, startAdmin } from '../admin';
import { AppProcess } from '../app-process';
import { createTestDatabase, query, TestDatabase } from '../database';
import { eventually } from '../eventually';
import { byKey, readIcebergTable, tempWarehouse } from '../writer';
import { duckdbRows } from './duckdb-table';
import { GenerativePlan, SourcePlan, TablePlan } from './plan';
import { comparableCell, icebergCanonical, randomValue, sourceCanonical } from './values';
import { seededRandom } from '@philotes/faults';
import { testPort } from '../ports';

export interface ScenarioResult {
  readonly seed: number;
  readonly sources: number;
  readonly tables: number;
  /** Of which hash-partitioned at the source. */
  readonly partitioned: number;
  readonly rows: number;
  readonly operations: number;
  readonly faults: number;
  /** Empty when every table agrees with its source, by both readers. */
  readonly failures: string[];
}

const NAMESPACE = '{source}.{schema}';
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const qualified = (t: Pick<TablePlan, 'schema' | 'name'>) => `${q(t.schema)}.${q(t.name)}`;

interface LiveSource {
  readonly plan: SourcePlan;
  readonly db: TestDatabase;
  readonly client: Client;
  readonly slot: string;
  readonly publication: string;
  reader?: AppProcess;
  readonly nextId: Map<TablePlan, number>;
  /** Numbers partitions' names, which must not collide with any table's in the schema. */
  partitionsMade: number;
}

/**
 * Runs a generated scenario for real — source databases, one buffer, a reader per source and a
 * writer as processes, SIGKILLs where the plan says — then compares every published table with
 * its Iceberg table, read by DuckDB's Parquet reader (deletes applied per the spec) and, for
 * tables keyed by a long, by icebird.
 */
export async function runScenario(plan: GenerativePlan, log: (line: string) => void = () => undefined): Promise<ScenarioResult> {
  const random = seededRandom(plan.seed ^ 0x5eed);
  const buffer = await createTestDatabase('philotes_gbuf');
  const warehouse = tempWarehouse();
  const sources: LiveSource[] = [];
  const pool = new Pool({ connectionString: buffer.url, max: 2 });
  let writer: AppProcess | undefined;
  let admin: RunningAdmin | undefined;
  let faults = 0;
  let rows = 0;
  try {
    for (const [i, sourcePlan] of plan.sources.entries()) {
      const db = await createTestDatabase('philotes_gsrc');
      const client = new Client({ connectionString: db.url });
      client.on('error', () => undefined);
      await client.connect();
      // Intervals compare as ISO 8601, the text the writer gives them.
      await client.query('SET IntervalStyle = iso_8601');
      const source: LiveSource = { plan: sourcePlan, db, client, slot: `gslot_${plan.seed}_${i}`, publication: `gpub_${i}`, nextId: new Map(), partitionsMade: 0 };
      sources.push(source);
      for (const schema of new Set(sourcePlan.tables.map((t) => t.schema))) await client.query(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
      for (const table of sourcePlan.tables) rows += await createTable(source, table, table.rows, random);
      const listed = sourcePlan.tables.filter((t) => t.published).map(qualified);
      // Through the root, as the reader creates its own: a partitioned table is one Iceberg table.
      await client.query(
        `${
          sourcePlan.publication === 'all'
            ? `CREATE PUBLICATION ${source.publication} FOR ALL TABLES`
            : `CREATE PUBLICATION ${source.publication}${listed.length > 0 ? ` FOR TABLE ${listed.join(', ')}` : ''}`
        } WITH (publish_via_partition_root = true)`,
      );
      source.reader = await startReader(buffer, source);
    }
    let formatVersion: 2 | 3 = plan.formatVersion.start;
    writer = await startWriter(buffer, warehouse, formatVersion);
    admin = await startAdmin(buffer.url);
    for (const source of sources) await source.reader!.waitForLog('streaming', (line) => line.message === 'streaming', 60_000);

    for (const [index, operation] of plan.operations.entries()) {
      const source = sources[operation.source];
      if (index === Math.floor(plan.operations.length / 2) && formatVersion !== plan.formatVersion.afterWriterRestart) {
        // The upgrade, halfway, for a plan without a writer kill before it.
        await writer.stop();
        formatVersion = plan.formatVersion.afterWriterRestart;
        writer = await startWriter(buffer, warehouse, formatVersion);
      }
      if (operation.kind === 'settle') {
        await settle(buffer, [source]);
        continue;
      }
      if (operation.kind === 'kill') {
        faults++;
        if (operation.app === 'reader') {
          await kill(source.reader!);
          source.reader = await startReader(buffer, source);
        } else if (operation.app === 'admin') {
          await kill(admin.process);
          admin = await startAdmin(buffer.url);
        } else {
          await kill(writer);
          formatVersion = plan.formatVersion.afterWriterRestart;
          writer = await startWriter(buffer, warehouse, formatVersion);
        }
        continue;
      }
      const table = source.plan.tables[operation.table];
      if (operation.kind === 'resync') await resync(admin, source, table);
      else rows += await apply(source, table, operation, random, pool);
    }

    const failures = await settleAndCompare(buffer, sources, () => [writer!, admin!.process, ...sources.map((s) => s.reader!)]);
    const tables = plan.sources.reduce((n, s) => n + s.tables.length, 0);
    const partitioned = plan.sources.reduce((n, s) => n + s.tables.filter((t) => t.partitions > 0).length, 0);
    return { seed: plan.seed, sources: plan.sources.length, tables, partitioned, rows, operations: plan.operations.length, faults, failures };
  } catch (error) {
    log(`writer said:\n${writer?.output.slice(-20).join('\n')}`);
    for (const source of sources) log(`reader of ${source.plan.id} said:\n${source.reader?.output.slice(-30).join('\n')}`);
    throw error;
  } finally {
    await admin?.process.stop().catch(() => undefined);
    await writer?.stop().catch(() => undefined);
    for (const source of sources) {
      await source.reader?.stop().catch(() => undefined);
      await source.client.end().catch(() => undefined);
      await source.db.drop().catch(() => undefined);
    }
    await pool.end();
    await buffer.drop().catch(() => undefined);
  }
}

async function startReader(buffer: TestDatabase, source: LiveSource): Promise<AppProcess> {
  return AppProcess.start('wal-reader', {
    PHILOTES_DATABASE_URL: buffer.url,
    PHILOTES_CDC_SOURCE_URL: source.db.url,
    PHILOTES_CDC_SOURCE_ID: source.plan.id,
    PHILOTES_CDC_REPLICATION_SLOT: source.slot,
    PHILOTES_CDC_PUBLICATION: source.publication,
    PHILOTES_INSTANCE_ID: `reader-${source.plan.id}`,
    PHILOTES_CDC_FLUSH_INTERVAL: '50ms',
    PHILOTES_CDC_CHECKPOINT_INTERVAL: '200ms',
    PHILOTES_HEARTBEAT_INTERVAL: '300ms',
    PHILOTES_RETRY_INITIAL_INTERVAL: '100ms',
    PHILOTES_RETRY_MAX_INTERVAL: '1s',
    PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await testPort()}`,
  });
}

async function startWriter(buffer: TestDatabase, warehouse: string, formatVersion: 2 | 3): Promise<AppProcess> {
  return AppProcess.start('iceberg-writer', {
    PHILOTES_DATABASE_URL: buffer.url,
    PHILOTES_ICEBERG_FORMAT_VERSION: String(formatVersion),
    PHILOTES_ICEBERG_WAREHOUSE: warehouse,
    PHILOTES_ICEBERG_NAMESPACE: NAMESPACE,
    PHILOTES_CDC_FLUSH_INTERVAL: '100ms',
    PHILOTES_HEARTBEAT_INTERVAL: '300ms',
    PHILOTES_RETRY_INITIAL_INTERVAL: '100ms',
    PHILOTES_RETRY_MAX_INTERVAL: '1s',
    PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await testPort()}`,
  });
}

/** An operator's resync of one table, through dlq-admin's API as an operator would ask it. */
async function resync(admin: RunningAdmin, source: LiveSource, table: TablePlan): Promise<void> {
  if (!table.published) return;
  // A path segment `.` or `..` is resolved away by every client: such a table is named in the body.
  const dotted = [table.schema, table.name].some((n) => n === '.' || n === '..');
  const path = dotted ? ['sources', source.plan.id] : ['sources', source.plan.id, 'tables', table.schema, table.name];
  const body = { requestedBy: 'generator', ...(dotted ? { table: { schema: table.schema, name: table.name } } : {}) };
  const answer = await api(admin, 'POST', `/api/v1/${path.map(encodeURIComponent).join('/')}/resync`, { body });
  if (answer.status === 202) return;
  // The reader has not registered a table that joined a moment ago: nothing to copy again yet.
  const unknown = `table ${table.schema}.${table.name} of source ${source.plan.id} not found`;
  if (answer.status === 404 && answer.body.message === unknown) return;
  throw new Error(`resync of ${source.plan.id}:${table.schema}.${table.name} answered ${answer.status} ${JSON.stringify(answer.body)}`);
}

async function kill(app: AppProcess): Promise<void> {
  app.signal('SIGKILL');
  await app.exit();
}

function columnList(table: TablePlan): string {
  return [`id int8${table.key === 'pk' ? ' PRIMARY KEY' : ''}`, ...table.columns.map((c) => `${q(c.name)} ${c.type}`)].join(', ');
}

/** Creates the table with `count` rows; returns the rows written. */
async function createTable(source: LiveSource, table: TablePlan, count: number, random: () => number): Promise<number> {
  await source.client.query(`CREATE TABLE ${qualified(table)} (${columnList(table)})${table.partitions > 0 ? ' PARTITION BY HASH (id)' : ''}`);
  // A partitioned table's replica identity is each partition's own: PostgreSQL checks the leaf.
  const relations = [qualified(table)];
  for (let i = 0; i < table.partitions; i++) {
    const partition = `${q(table.schema)}.${q(`gpart_${source.partitionsMade++}`)}`;
    await source.client.query(`CREATE TABLE ${partition} PARTITION OF ${qualified(table)} FOR VALUES WITH (MODULUS ${table.partitions}, REMAINDER ${i})`);
    relations.push(partition);
  }
  if (table.key === 'full') for (const relation of relations) await source.client.query(`ALTER TABLE ${relation} REPLICA IDENTITY FULL`);
  source.nextId.set(table, 1);
  return insert(source, table, count, random);
}

async function insert(source: LiveSource, table: TablePlan, count: number, random: () => number): Promise<number> {
  for (let i = 0; i < count; i++) {
    const id = source.nextId.get(table)!;
    source.nextId.set(table, id + 1);
    const values = table.columns.map((c) => randomValue(c.type, random));
    const params = values.map((_, k) => `$${k + 2}::${table.columns[k].type}`);
    await source.client.query(`INSERT INTO ${qualified(table)} (id${table.columns.map((c) => `, ${q(c.name)}`).join('')}) VALUES ($1${params.map((p) => `, ${p}`).join('')})`, [id, ...values]);
  }
  return count;
}

/** An existing row's id, picked by the seeded draw; undefined for an empty table. */
async function someId(source: LiveSource, table: TablePlan, random: () => number): Promise<string | undefined> {
  const { rows } = await source.client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(table)}`);
  const n = Number(rows[0].n);
  if (n === 0) return undefined;
  const picked = await source.client.query<{ id: string }>(`SELECT id::text AS id FROM ${qualified(table)} ORDER BY id OFFSET ${Math.floor(random() * n)} LIMIT 1`);
  return picked.rows[0]?.id;
}

async function apply(source: LiveSource, table: TablePlan, operation: GenerativePlan['operations'][number], random: () => number, pool: Pool): Promise<number> {
  const { client } = source;
  switch (operation.kind) {
    case 'insert':
      return insert(source, table, operation.count, random);
    case 'update': {
      const id = await someId(source, table, random);
      if (id === undefined) return 0;
      const sets = table.columns.filter(() => random() < 0.6).map((c) => ({ c, v: randomValue(c.type, random) }));
      const assignments = sets.map((s, k) => `${q(s.c.name)} = $${k + 2}::${s.c.type}`);
      if (operation.keyChange) {
        const next = source.nextId.get(table)!;
        source.nextId.set(table, next + 1);
        assignments.push(`id = ${next}`);
      }
      if (assignments.length === 0) assignments.push('id = id');
      await client.query(`UPDATE ${qualified(table)} SET ${assignments.join(', ')} WHERE id = $1`, [id, ...sets.map((s) => s.v)]);
      return 0;
    }
    case 'delete': {
      const id = await someId(source, table, random);
      if (id !== undefined) await client.query(`DELETE FROM ${qualified(table)} WHERE id = $1`, [id]);
      return 0;
    }
    case 'truncate':
      await client.query(`TRUNCATE ${qualified(table)}`);
      return 0;
    case 'add-column':
      if (table.columns.some((c) => c.name === operation.column.name)) return 0;
      await client.query(`ALTER TABLE ${qualified(table)} ADD COLUMN ${q(operation.column.name)} ${operation.column.type}`);
      table.columns.push(operation.column);
      return 0;
    case 'drop-column': {
      if (table.columns.length === 0) return 0;
      const [dropped] = table.columns.splice(Math.floor(random() * table.columns.length), 1);
      await client.query(`ALTER TABLE ${qualified(table)} DROP COLUMN ${q(dropped.name)}`);
      return 0;
    }
    case 'recreate': {
      await client.query(`DROP TABLE ${qualified(table)}`);
      const written = await createTable(source, table, operation.rows, random);
      if (source.plan.publication === 'list' && table.published) await client.query(`ALTER PUBLICATION ${source.publication} ADD TABLE ${qualified(table)}`);
      return written;
    }
    case 'publish':
      if (source.plan.publication === 'list' && !table.published) {
        await client.query(`ALTER PUBLICATION ${source.publication} ADD TABLE ${qualified(table)}`);
        (table as { published: boolean }).published = true;
      }
      return 0;
    case 'unpublish':
      if (source.plan.publication === 'list' && table.published) {
        await client.query(`ALTER PUBLICATION ${source.publication} DROP TABLE ${qualified(table)}`);
        (table as { published: boolean }).published = false;
        // The reader notices within its monitor interval; changes before that would still stream.
        await eventually(`the reader to see ${table.name} leave`, async () => {
          const [row] = await query<{ status: string }>(
            pool.options.connectionString!,
            'SELECT b.status FROM cdc_tables t LEFT JOIN cdc_backfill b USING (table_id) WHERE t.source_id = $1 AND t.schema_name = $2 AND t.table_name = $3',
            [source.plan.id, table.schema, table.name],
          );
          return row === undefined || row.status !== 'done';
        }, { timeoutMs: 30_000 });
      }
      return 0;
    default:
      return 0;
  }
}

/** Waits until the buffer holds everything the sources wrote so far, and the writer applied it. */
async function settle(buffer: TestDatabase, sources: readonly LiveSource[]): Promise<void> {
  for (const source of sources) {
    const { rows } = await source.client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const target = parseLsn(rows[0].lsn);
    await eventually(`source ${source.plan.id} in the buffer`, async () => {
      const [checkpoint] = await query<{ lsn: string; partial: boolean }>(buffer.url, 'SELECT confirmed_lsn::text AS lsn, partial_commit_lsn IS NOT NULL AS partial FROM cdc_checkpoints WHERE source_id = $1', [source.plan.id]);
      return checkpoint !== undefined && !checkpoint.partial && parseLsn(checkpoint.lsn) >= target;
    }, { timeoutMs: 90_000 });
  }
  await eventually('the writer to apply every event', async () => {
    const [{ behind }] = await query<{ behind: number }>(
      buffer.url,
      `SELECT count(*)::int AS behind FROM cdc_events e LEFT JOIN cdc_writer_progress p USING (table_id)
        WHERE p.table_id IS NULL OR (e.commit_lsn, e.seq) > (p.applied_lsn, p.applied_seq)`,
    );
    return behind === 0;
  }, { timeoutMs: 90_000, intervalMs: 200 }).catch(() => undefined); // a refused or copying table may hold events: the comparison says which
}

/** Waits for the pipeline to take in everything, then compares every published table; the differences found. */
async function settleAndCompare(buffer: TestDatabase, sources: readonly LiveSource[], apps: () => AppProcess[]): Promise<string[]> {
  await settle(buffer, sources);
  const failures: string[] = [];
  for (const source of sources) {
    for (const table of source.plan.tables.filter((t) => t.published)) {
      const name = `${source.plan.id}:${table.schema}.${table.name}`;
      let last = '';
      await eventually(`${name} to agree`, async () => {
        last = await difference(buffer, source, table);
        return last === '';
      }, { timeoutMs: 60_000, intervalMs: 500 }).catch(() => {
        failures.push(`${name}: ${last}`);
      });
    }
  }
  failures.push(...(await backlogDrift(buffer)));
  if (failures.length > 0) {
    for (const app of apps()) failures.push(`${app.app} said:\n${app.output.slice(-12).join('\n')}`);
  }
  return failures;
}

/**
 * Tables whose counted backlog (bytes stored less bytes applied, what backpressure weighs) differs
 * from the buffer's unapplied events scanned: exact in any one snapshot, through crashes, copies,
 * resyncs and retention alike.
 */
async function backlogDrift(buffer: TestDatabase): Promise<string[]> {
  const rows = await query<{ name: string; counted: string; scanned: string }>(
    buffer.url,
    `SELECT t.source_id || ':' || t.schema_name || '.' || t.table_name AS name,
            (coalesce(v.stored_bytes, 0) - coalesce(p.applied_bytes, 0))::text AS counted,
            (SELECT coalesce(sum(octet_length(e.payload)), 0) FROM cdc_events e
              WHERE e.table_id = t.table_id AND (p.table_id IS NULL OR (e.commit_lsn, e.seq) > (p.applied_lsn, p.applied_seq)))::text AS scanned
       FROM cdc_tables t LEFT JOIN cdc_table_volume v USING (table_id) LEFT JOIN cdc_writer_progress p USING (table_id)`,
  );
  return rows.filter((row) => row.counted !== row.scanned).map((row) => `${row.name}: backlog counted ${row.counted} bytes, scanned ${row.scanned}`);
}

/** '' when the Iceberg table holds exactly the source's rows (both readers); else what differs. */
async function difference(buffer: TestDatabase, source: LiveSource, table: TablePlan): Promise<string> {
  const columns = [{ name: 'id', type: 'int8' as const }, ...table.columns];
  const expected = (
    await source.client.query<Record<string, string | null>>(
      `SELECT ${columns.map((c, i) => `${sourceCanonical(c.type, q(c.name))} AS c${i}`).join(', ')} FROM ${qualified(table)}`,
    )
  ).rows.map((row) => JSON.stringify(columns.map((c, i) => comparableCell(c.type, row[`c${i}`]))));
  const id = icebergIdentifier(NAMESPACE, { sourceId: source.plan.id, schema: table.schema, table: table.name });
  const iceberg = await readIcebergTable(buffer.url, id.namespace, id.name);
  let actual: string[] = [];
  if (iceberg) {
    let live = await duckdbRows(iceberg.metadataLocation, iceberg.files, icebergCanonical, { lineage: true });
    const lineage = lineageProblem(JSON.parse(readFileSync(fileURLToPath(iceberg.metadataLocation), 'utf8')) as { 'format-version': number; 'next-row-id'?: number }, live);
    if (lineage) return lineage;
    if (table.key === 'none') {
      // A change log of inserts and TRUNCATEs: what came after the last TRUNCATE is the table.
      const position = (r: Record<string, string | null>) => BigInt(r._cdc_lsn!) * 2n ** 64n + BigInt(r._cdc_seq!) + 2n ** 63n;
      const cut = live.filter((r) => r._cdc_op === 'T').reduce((max, r) => (position(r) > max ? position(r) : max), -1n);
      live = live.filter((r) => (r._cdc_op === 'I' || r._cdc_op === 'R') && position(r) > cut);
    }
    actual = live.map((row) => JSON.stringify(columns.map((c) => comparableCell(c.type, row[c.name] ?? null))));
    if (table.key === 'pk' && !iceberg.rowsUnread) {
      // The second reader: icebird's own deletes, on the long key it matches correctly (icebird
      // 0.3.1 reads no deletion vectors: a v3 table's rows are DuckDB's with the vectors decoded by CRoaring).
      const ids = [...byKey(iceberg.rows, 'id').keys()].sort();
      const want = expected.map((e) => String(JSON.parse(e)[0])).sort();
      if (JSON.stringify(ids) !== JSON.stringify(want)) return `icebird sees ids ${JSON.stringify(ids.slice(0, 10))}…, the source ${JSON.stringify(want.slice(0, 10))}…`;
    }
  }
  const missing = expected.filter((e) => !actual.includes(e));
  const extra = actual.filter((a) => !expected.includes(a));
  const duplicated = actual.length - new Set(actual).size - (expected.length - new Set(expected).size);
  if (missing.length === 0 && extra.length === 0 && duplicated === 0) return '';
  return `missing ${missing.length} ${missing.slice(0, 2).join(' ')}, extra ${extra.length} ${extra.slice(0, 2).join(' ')}, duplicated ${duplicated} (source ${expected.length} rows, iceberg ${actual.length})`;
}

/**
 * What is wrong with a v3 table's row lineage (spec, Row Lineage): every live row must have a
 * `_row_id` of its own below the table's next-row-id. Undefined for v2 tables, which have none.
 */
function lineageProblem(metadata: { 'format-version': number; 'next-row-id'?: number }, rows: ReadonlyArray<Record<string, string | null>>): string | undefined {
  if (metadata['format-version'] < 3) return undefined;
  const ids = rows.map((r) => r._row_id);
  const missing = ids.filter((i) => i === null).length;
  const beyond = ids.filter((i) => i !== null && BigInt(i) >= BigInt(metadata['next-row-id'] ?? 0)).length;
  const repeated = ids.length - new Set(ids).size;
  if (missing + beyond + repeated === 0) return undefined;
  return `row lineage: ${missing} rows without _row_id, ${beyond} at or past next-row-id ${metadata['next-row-id']}, ${repeated} repeated`;
}
