import { Client } from 'pg';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { S3Server, startS3Server } from '../support/s3';
import { byKey, readIcebergTable, RunningWriter, startWriter, waitWriterCaughtUp } from '../support/writer';

/**
 * Real: an S3-compatible server process (s3rver) on loopback holding the warehouse, the reader and
 * writer processes with signed S3 requests, and icebird reading the table back over HTTP.
 */
describe('iceberg-writer with an S3 warehouse', () => {
  let dbs: CaptureDatabases;
  let s3: S3Server;
  let reader: RunningReader;
  let writer: RunningWriter;
  let source: Client;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    s3 = await startS3Server();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE orders (id int PRIMARY KEY, amount numeric(12,2), note text)');
    await source.query("INSERT INTO orders SELECT g, g * 1.5, 'first' FROM generate_series(1, 200) g");
    reader = await startReader(dbs);
    writer = await startWriter(dbs, `s3://${s3.bucket}/lake`, {
      PHILOTES_ICEBERG_S3_ENDPOINT: s3.endpoint,
      PHILOTES_ICEBERG_S3_ACCESS_KEY_ID: 'S3RVER',
      PHILOTES_ICEBERG_S3_SECRET_ACCESS_KEY: 'S3RVER',
      PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '1s',
      // 2: whenever the rounds end, a delete file and the data it applies to are enough for a rewrite
      // (with more, how many files the last rounds leave behind depends on the machine's speed).
      PHILOTES_ICEBERG_COMPACTION_MIN_FILES: '2',
      PHILOTES_ICEBERG_ORPHAN_GRACE: '1s',
    });
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    // Ready means it could write (and delete) a probe object in the bucket.
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await source?.end();
    await s3?.stop();
    await dbs?.drop();
  });

  it('writes, compacts and cleans up the table in the bucket, and icebird reads it back over S3', async () => {
    for (let i = 0; i < 6; i++) {
      await source.query(`UPDATE orders SET amount = amount + 1, note = 'round ${i}' WHERE id % 5 = ${i % 5}`);
      await source.query(`INSERT INTO orders VALUES (${1000 + i}, ${i}.25, 'new')`);
      await source.query(`DELETE FROM orders WHERE id = ${10 + i}`);
      await waitCaughtUp(dbs);
      await waitWriterCaughtUp(dbs.buffer.url);
    }
    const table = await eventually(
      'compaction to leave no delete files',
      async () => {
        const state = await readIcebergTable(dbs.buffer.url, 'public', 'orders', { s3Endpoint: s3.endpoint });
        return state && state.files.every((f) => f.content === 0) ? state : undefined;
      },
      { timeoutMs: 60_000 },
    ).catch((error: Error) => {
      // Say why: the writer's warnings and its upkeep lines, not just the timeout.
      const lines = writer.process.logs.filter((l) => l.level !== 'debug' && l.level !== 'info' || /compact|expire|orphan/.test(String(l.message)));
      throw new Error(`${error.message}\nwriter log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
    });
    expect(table.metadataLocation).toMatch(new RegExp(`^s3://${s3.bucket}/lake/public\\.db/orders-[0-9a-f]{32}/metadata/\\d{5}-.*\\.metadata\\.json$`));
    const expected = await query<{ id: string; amount: string; note: string }>(dbs.source.url, 'SELECT id::text AS id, amount::text AS amount, note FROM orders');
    const rows = byKey(table.rows, 'id');
    expect(rows.size).toBe(expected.length);
    for (const row of expected) expect({ id: row.id, amount: Number(rows.get(row.id)?.amount).toFixed(2), note: rows.get(row.id)?.note }).toEqual(row);

    const prefix = `${table.metadataLocation.slice(`s3://${s3.bucket}/`.length, table.metadataLocation.indexOf('/metadata/'))}/`;
    const keys = await s3.keys(prefix);
    expect(keys).toContain(`${prefix}metadata/version-hint.text`);
    expect(keys.filter((k) => k.endsWith('.parquet')).length).toBeGreaterThan(0);
    // The readiness probe cleans up after itself.
    expect(await s3.keys('lake/.philotes/')).toEqual([]);
  });
});
