import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { parseLsn } from '@philotes/pgoutput';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, startReader } from '../support/capture';
import { createTestDatabase, query, TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { HOSTILE_NAMES } from '../support/hostile-names';
import { readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp, warehouseUri } from '../support/writer';

/** Several source databases streaming into one buffer, each with its own reader. */
interface Sources {
  readonly dbs: CaptureDatabases;
  readonly extra: TestDatabase[];
  readonly readers: RunningReader[];
  readonly urls: Record<string, string>;
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Sources `a` (the capture pair's) and `b`, `c`, … (extra databases), each prepared by `prepare`. */
async function startSources(ids: readonly string[], prepare: (client: Client, id: string) => Promise<void>): Promise<Sources> {
  const dbs = await createCaptureDatabases();
  const extra: TestDatabase[] = [];
  const urls: Record<string, string> = {};
  for (const [i, id] of ids.entries()) {
    const db = i === 0 ? dbs.source : await createTestDatabase('philotes_src');
    if (i > 0) extra.push(db);
    urls[id] = db.url;
    await withClient(db.url, (client) => prepare(client, id));
  }
  const readers: RunningReader[] = [];
  for (const id of ids) {
    const suffix = randomBytes(3).toString('hex');
    const reader = await startReader(dbs, {
      PHILOTES_INSTANCE_ID: `reader-${id}`,
      PHILOTES_CDC_SOURCE_ID: id,
      PHILOTES_CDC_SOURCE_URL: urls[id],
      PHILOTES_CDC_REPLICATION_SLOT: `slot_${id}_${suffix}`,
      PHILOTES_CDC_PUBLICATION: `pub_${id}_${suffix}`,
    });
    readers.push(reader);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
  }
  return { dbs, extra, readers, urls };
}

async function stopSources(sources: Sources | undefined): Promise<void> {
  if (!sources) return;
  for (const reader of sources.readers) await reader.process.stop();
  for (const db of sources.extra) await db.drop();
  await sources.dbs.drop();
}

/** Waits until every source's checkpoint covers what its database has written so far. */
async function waitSourcesCaughtUp(sources: Sources): Promise<void> {
  for (const [id, url] of Object.entries(sources.urls)) {
    const [{ lsn }] = await query<{ lsn: string }>(url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    await eventually(`source ${id} to reach ${lsn}`, async () => {
      const [row] = await query<{ confirmed_lsn: string; partial: boolean }>(
        sources.dbs.buffer.url,
        'SELECT confirmed_lsn::text, partial_commit_lsn IS NOT NULL AS partial FROM cdc_checkpoints WHERE source_id = $1',
        [id],
      );
      return row !== undefined && !row.partial && parseLsn(row.confirmed_lsn) >= parseLsn(lsn);
    });
  }
}

async function rowsOf(url: string, qualified: string): Promise<string[]> {
  return (await query<{ id: number; v: string }>(url, `SELECT id, v FROM ${qualified} ORDER BY id`)).map((r) => `${r.id}:${r.v}`);
}

async function icebergRows(bufferUrl: string, namespace: string, name: string): Promise<string[] | undefined> {
  const table = await readIcebergTable(bufferUrl, namespace, name);
  return table?.rows.map((r) => `${r.id}:${r.v}`).sort((x, y) => Number(x.split(':')[0]) - Number(y.split(':')[0]));
}

async function tableProperties(bufferUrl: string, namespace: string, name: string): Promise<{ properties: Record<string, string>; location: string }> {
  const table = await readIcebergTable(bufferUrl, namespace, name);
  const metadata = JSON.parse(await readFile(fileURLToPath(table!.metadataLocation), 'utf8')) as { properties: Record<string, string>; location: string };
  return metadata;
}

describe('Iceberg table identity', () => {
  let sources: Sources | undefined;
  let writer: RunningWriter | undefined;

  afterEach(async () => {
    await writer?.process.stop();
    await stopSources(sources);
    writer = undefined;
    sources = undefined;
  });

  it('keeps two sources with the same schemas and tables apart: {source}.{schema}', async () => {
    sources = await startSources(['a', 'b'], async (client, id) => {
      await client.query('CREATE SCHEMA archive');
      for (const schema of ['public', 'archive']) {
        await client.query(`CREATE TABLE ${schema}.orders (id int PRIMARY KEY, v text)`);
        await client.query(`INSERT INTO ${schema}.orders SELECT g, '${id}-${schema}-' || g FROM generate_series(1, ${id === 'a' ? 3 : 5}) g`);
      }
    });
    const warehouse = tempWarehouse();
    writer = await startWriter(sources.dbs, warehouse, { PHILOTES_ICEBERG_NAMESPACE: '{source}.{schema}' });
    // Changes after the copy: an update on one side, a TRUNCATE of the same name on the other.
    await withClient(sources.urls.a, (c) => c.query("UPDATE public.orders SET v = 'changed' WHERE id = 1"));
    await withClient(sources.urls.b, (c) => c.query('TRUNCATE public.orders'));
    await waitSourcesCaughtUp(sources);
    await waitWriterCaughtUp(sources.dbs.buffer.url);

    const locations: string[] = [];
    for (const id of ['a', 'b']) {
      for (const schema of ['public', 'archive']) {
        expect({ id, schema, rows: await icebergRows(sources.dbs.buffer.url, `${id}.${schema}`, 'orders') }).toEqual({
          id,
          schema,
          rows: await rowsOf(sources.urls[id], `${schema}.orders`),
        });
        const metadata = await tableProperties(sources.dbs.buffer.url, `${id}.${schema}`, 'orders');
        expect(metadata.properties).toMatchObject({ 'philotes.source-id': id, 'philotes.source-schema': schema, 'philotes.source-table': 'orders' });
        locations.push(metadata.location);
      }
    }
    expect(new Set(locations).size).toBe(4);
    for (const location of locations) {
      expect(location.startsWith(`${warehouseUri(warehouse)}/`)).toBe(true);
      for (const other of locations) if (other !== location) expect(other.startsWith(`${location}/`)).toBe(false);
    }
  });

  it('refuses, naming the cause, a table whose Iceberg name another source already holds: {schema} with two sources', async () => {
    sources = await startSources(['a', 'b'], async (client, id) => {
      await client.query('CREATE TABLE orders (id int PRIMARY KEY, v text); CREATE TABLE other (id int PRIMARY KEY, v text)');
      await client.query(`INSERT INTO orders SELECT g, '${id}-' || g FROM generate_series(1, 4) g`);
      // Only source b has this table: it is unaffected by the clash.
      if (id === 'b') await client.query('CREATE TABLE only_b (id int PRIMARY KEY, v text); INSERT INTO only_b VALUES (1, \'b\')');
    });
    writer = await startWriter(sources.dbs, tempWarehouse());
    const refused = await writer.process.waitForLog('a refused table', (line) => typeof line.error === 'object' && /maps to Iceberg table public\.orders, but it mirrors/.test(String((line.error as { message?: string }).message)), 60_000);
    const message = String((refused.error as { message: string }).message);
    const [loser, winner] = message.includes('of source "a" maps') ? ['a', 'b'] : ['b', 'a'];
    expect(message).toBe(`table public.orders of source "${loser}" maps to Iceberg table public.orders, but it mirrors "public"."orders" of source "${winner}"`);
    expect(refused.action).toMatch(/PHILOTES_ICEBERG_NAMESPACE with \{source\} and \{schema\}/);

    // The winner's table holds the winner's rows only, and changes keep reaching it.
    await withClient(sources.urls[winner], (c) => c.query("INSERT INTO orders VALUES (10, 'late')"));
    await withClient(sources.urls[loser], (c) => c.query("INSERT INTO orders VALUES (11, 'never merged')"));
    await waitSourcesCaughtUp(sources);
    await eventually('the winner to be mirrored', async () => {
      const rows = await icebergRows(sources!.dbs.buffer.url, 'public', 'orders');
      return JSON.stringify(rows) === JSON.stringify(await rowsOf(sources!.urls[winner], 'orders'));
    });
    expect(await icebergRows(sources.dbs.buffer.url, 'public', 'only_b')).toEqual(['1:b']);
    // Retrying cannot fix it: the loser's table is failed, with the reason, until an operator acts.
    const failure = await eventually('the refusal recorded as the table failed', async () => {
      const rows = await query<{ error_kind: string; error_message: string }>(
        sources!.dbs.buffer.url,
        "SELECT f.error_kind, f.error_message FROM cdc_table_failures f JOIN cdc_tables t USING (table_id) WHERE t.source_id = $1 AND t.table_name = 'orders'",
        [loser],
      );
      return rows[0];
    });
    expect(failure).toEqual({ error_kind: 'configuration', error_message: message });
  });

  it('mirrors tables with every kind of hostile name, each in a folder of its own', async () => {
    const schema = 'we.ird/"sch%ema"';
    const names = [...HOSTILE_NAMES];
    sources = await startSources(['a'], async (client) => {
      const quote = (name: string) => client.escapeIdentifier(name);
      await client.query(`CREATE SCHEMA ${quote(schema)}`);
      for (const [i, name] of names.entries()) {
        await client.query(`CREATE TABLE ${quote(schema)}.${quote(name)} (id int PRIMARY KEY, v text)`);
        await client.query(`INSERT INTO ${quote(schema)}.${quote(name)} SELECT g, $1 || g FROM generate_series(1, ${i % 3}) g`, [name]);
      }
    });
    const warehouse = tempWarehouse();
    writer = await startWriter(sources.dbs, warehouse, { PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '1s', PHILOTES_ICEBERG_ORPHAN_GRACE: '1s' });
    await withClient(sources.urls.a, async (client) => {
      for (const name of names) await client.query(`INSERT INTO ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)} VALUES (100, 'streamed')`);
    });
    await waitSourcesCaughtUp(sources);
    await waitWriterCaughtUp(sources.dbs.buffer.url);

    const namespace = schema.replace(/%/g, '%25').replace(/\./g, '%2E');
    const check = async () => {
      const locations: string[] = [];
      for (const name of names) {
        const qualified = `${withQuotes(schema)}.${withQuotes(name)}`;
        expect({ name, rows: await icebergRows(sources!.dbs.buffer.url, namespace, name) }).toEqual({ name, rows: await rowsOf(sources!.urls.a, qualified) });
        locations.push((await tableProperties(sources!.dbs.buffer.url, namespace, name)).location);
      }
      expect(new Set(locations).size).toBe(names.length);
      for (const location of locations) {
        expect(location.startsWith(`${warehouseUri(warehouse)}/`)).toBe(true);
        expect(location.slice(warehouseUri(warehouse).length + 1)).toMatch(/^[A-Za-z0-9_~-]+\.db\/[A-Za-z0-9_~-]+-[0-9a-f]{32}$/);
      }
    };
    await check();

    // Upkeep (every second, orphan grace 1 s) over every table: an old stray file in each table's
    // data/ goes, a file deeper down (another table's, in a release that nested them) stays, and
    // nothing live is touched.
    const strays: string[] = [];
    const nested: string[] = [];
    const old = new Date(Date.now() - 3_600_000);
    for (const name of names) {
      const location = fileURLToPath((await tableProperties(sources.dbs.buffer.url, namespace, name)).location);
      for (const [path, list] of [[join(location, 'data', 'stray.parquet'), strays], [join(location, 'data', 'nested', 'metadata', 'keep.json'), nested]] as const) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, 'x');
        await utimes(path, old, old);
        list.push(path);
      }
    }
    await eventually('upkeep to remove every stray file', () => strays.every((path) => !existsSync(path)), { timeoutMs: 60_000, intervalMs: 200 });
    expect(nested.filter((path) => !existsSync(path))).toEqual([]);
    await check();
  });
});

function withQuotes(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
