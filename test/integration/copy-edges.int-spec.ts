import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { byKey, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

// Tables whose initial copy holds 0, 1, 2 and 3 rows, each row larger than the writer's target
// file size, so every commit ends on one copied row — the first one included, whose position is
// the lowest the copy hands out. A table stalled on a position it cannot read back never catches up.
const SIZES = [0, 1, 2, 3];
const WIDE = 3_000; // bytes of text per row: above the 1 kB target's 2 kB of payload per commit

describe('initial copy edges: tiny tables and commits ending on every copied row', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader | undefined;
  let writer: RunningWriter | undefined;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    for (const n of SIZES) {
      await source.query(`CREATE TABLE t${n} (id int PRIMARY KEY, note text)`);
      await source.query(`CREATE TABLE log${n} (note text)`);
      if (n > 0) {
        await source.query(`INSERT INTO t${n} SELECT g, repeat('x', ${WIDE}) FROM generate_series(1, ${n}) g`);
        await source.query(`INSERT INTO log${n} SELECT repeat('y', ${WIDE}) FROM generate_series(1, ${n})`);
      }
    }
    // A table of no columns at all is legal, and has rows.
    await source.query('CREATE TABLE nocols (); INSERT INTO nocols DEFAULT VALUES; INSERT INTO nocols DEFAULT VALUES');
    await source.end();
  });

  afterEach(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    writer = undefined;
    reader = undefined;
  });

  afterAll(async () => {
    await dbs?.drop();
  });

  /** `markers`: the TRUNCATE each copy opens with, logged in append tables (none from earlier readers). */
  async function expectMirrored(markers = 1): Promise<void> {
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}; the writer said:\n${writer?.process.output.slice(-15).join('\n')}`);
    });
    for (const n of SIZES) {
      const expected = await query<{ id: number; note: string }>(dbs.source.url, `SELECT id, note FROM t${n} ORDER BY id`);
      const table = await readIcebergTable(dbs.buffer.url, 'public', `t${n}`);
      expect(table).toBeDefined();
      const rows = byKey(table!.rows, 'id');
      expect([...rows.keys()].sort()).toEqual(expected.map((r) => String(r.id)).sort());
      for (const row of expected) expect(rows.get(String(row.id))?.note).toBe(row.note);
      const [{ count }] = await query<{ count: number }>(dbs.source.url, `SELECT count(*)::int AS count FROM log${n}`);
      const log = await readIcebergTable(dbs.buffer.url, 'public', `log${n}`);
      // The change log opens each copy with its TRUNCATE: the content starts over here.
      expect(log!.rows.filter((r) => r._cdc_op !== 'T').length).toBe(count);
      expect(log!.rows.filter((r) => r._cdc_op === 'T').length).toBe(markers);
    }
    const [{ count }] = await query<{ count: number }>(dbs.source.url, 'SELECT count(*)::int AS count FROM nocols');
    const nocols = await readIcebergTable(dbs.buffer.url, 'public', 'nocols');
    expect(nocols!.rows.filter((r) => r._cdc_op === 'R' || r._cdc_op === 'I').length).toBe(count);
  }

  it('applies every copied row one commit at a time, then streams on', async () => {
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    writer = await startWriter(dbs, tempWarehouse(), { PHILOTES_ICEBERG_TARGET_FILE_SIZE: '1KB' });
    await expectMirrored();
    // The commits did end on each copied row: one data file of one row per commit.
    const t3 = await readIcebergTable(dbs.buffer.url, 'public', 't3');
    expect(t3!.files.filter((f) => f.content === 0).map((f) => f.recordCount)).toEqual([1, 1, 1]);

    // Every table still moves after its copy: streamed changes land on top of it.
    const source = await sourceClient(dbs);
    for (const n of SIZES) {
      await source.query(`INSERT INTO t${n} VALUES (100, 'streamed')`);
      await source.query(`UPDATE t${n} SET note = 'changed' WHERE id = 1`);
      await source.query(`INSERT INTO log${n} VALUES ('streamed')`);
    }
    await source.query('INSERT INTO nocols DEFAULT VALUES');
    await source.end();
    await expectMirrored();
  });

  it('reads past a position of -(2^53), which earlier readers gave the first copied row', async () => {
    // Pretend the copy came from such a reader.
    await writer?.process.stop();
    await reader?.process.stop();
    await query(dbs.buffer.url, 'DELETE FROM cdc_writer_progress');
    await query(dbs.buffer.url, "DELETE FROM iceberg_tables");
    // Such copies opened with no TRUNCATE, and their first row sat at -(2^53).
    await query(dbs.buffer.url, "DELETE FROM cdc_events WHERE op = 'T'");
    await query(dbs.buffer.url, "UPDATE cdc_events SET seq = seq - 3 WHERE op = 'R'");
    const [{ lowest }] = await query<{ lowest: string }>(dbs.buffer.url, 'SELECT min(seq)::text AS lowest FROM cdc_events');
    expect(lowest).toBe(String(-(2n ** 53n)));
    reader = await startReader(dbs);
    writer = await startWriter(dbs, tempWarehouse(), { PHILOTES_ICEBERG_TARGET_FILE_SIZE: '1KB' });
    await expectMirrored(0);
    const source = await sourceClient(dbs);
    await source.query("INSERT INTO t1 VALUES (200, 'after')");
    await source.end();
    await expectMirrored(0);
  });
});
