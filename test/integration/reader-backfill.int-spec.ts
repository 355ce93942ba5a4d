import { Client } from 'pg';
import { AppProcess, httpGet } from '../support/app-process';
import { bufferedEvents, CaptureDatabases, createCaptureDatabases, finalImage, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { Workload } from '../support/workload';

const ITEMS = 20_000;
const ACCOUNTS = 500;

/**
 * Real: source and buffer PostgreSQL, the built wal-reader, writes running on the source during the
 * initial copy, and SIGKILLs in the middle of it. The buffer's final image of each table (copied
 * rows, then streamed changes, applied in order) must equal the source table.
 */
describe('wal-reader: initial copy with concurrent writes and crashes', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let accountsWriter: Client;
  let reader: AppProcess | undefined;
  let items: Workload;
  let accounts: Workload;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    accountsWriter = await sourceClient(dbs);
    await source.query('CREATE TABLE accounts (id bigint PRIMARY KEY, v int NOT NULL, note text)');
    await source.query('CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, note text)');
    await source.query(`INSERT INTO accounts SELECT g, g, 'seed' FROM generate_series(1, ${ACCOUNTS}) g`);
    await source.query(`INSERT INTO items SELECT g, g, 'seed' FROM generate_series(1, ${ITEMS}) g`);
  });

  afterAll(async () => {
    await items?.stop().catch(() => undefined);
    await accounts?.stop().catch(() => undefined);
    await reader?.stop();
    await source?.end();
    await accountsWriter?.end();
    await dbs?.drop();
  });

  const settings = (extra: Record<string, string> = {}) => ({ PHILOTES_CDC_BATCH_SIZE: '500', PHILOTES_BACKPRESSURE_ENABLED: 'false', ...extra });
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

  async function crashDuringCopy(faults: string): Promise<void> {
    reader = (await startReader(dbs, settings({ PHILOTES_FAULTS: faults }))).process;
    const exit = await eventually(`the reader to crash at ${faults}`, async () => (reader!.running ? undefined : reader!.exit()), { timeoutMs: 120_000 });
    expect(exit.signal).toBe('SIGKILL');
  }

  it('ends with the buffer image equal to each source table, copying a finished table only once', async () => {
    items = new Workload(source, { table: 'public.items', seed: 11, bigEvery: 25, bigRows: 200, firstId: ITEMS + 1, existingIds: range(1, ITEMS) });
    accounts = new Workload(accountsWriter, { table: 'public.accounts', seed: 12, bigEvery: 1000, bigRows: 1, firstId: ACCOUNTS + 1, existingIds: range(1, ACCOUNTS) });
    items.start();
    accounts.start();

    // accounts (one batch, then its final flush) is copied first; the 12th batch is inside items.
    await crashDuringCopy('reader.copy-batch:12');
    const [accountsCopy] = await query<{ status: string; rows_copied: string; snapshot_lsn: string }>(
      dbs.buffer.url,
      "SELECT status, rows_copied::text, snapshot_lsn::text FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'accounts'",
    );
    expect(accountsCopy.status).toBe('done');
    const [itemsCopy] = await query<{ status: string }>(dbs.buffer.url, "SELECT status FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'items'");
    expect(itemsCopy.status).toBe('copying');

    // The resumed copy (a fresh snapshot, items only) is interrupted too.
    await crashDuringCopy('reader.copy-batch:5');

    const final = await startReader(dbs, settings());
    reader = final.process;
    const started = reader;
    await started.waitForLog('the end of the copy', (line) => line.message === 'initial copy finished', 120_000);
    expect(started.logs.find((line) => line.message === 'copy starting')).toMatchObject({ tables: 1, besideStream: true });
    await items.stop();
    await accounts.stop();
    await waitCaughtUp(dbs, 120_000);

    const events = await bufferedEvents(dbs.buffer.url);
    for (const table of ['accounts', 'items']) {
      const expected = await query<{ id: string; v: number; note: string }>(dbs.source.url, `SELECT id::text, v, note FROM ${table} ORDER BY id`);
      const image = finalImage(events, `public.${table}`, 'id');
      expect(image.size).toBe(expected.length);
      const mismatches = expected.filter((row) => {
        const got = image.get(row.id);
        return !got || got.v !== row.v || got.note !== row.note;
      });
      expect(mismatches.slice(0, 5)).toEqual([]);
    }

    // No overlap and no gap between the copy and the stream: every update is v = v + 1, so for each
    // key the copied row and the streamed updates after it must step by exactly one. A streamed change
    // already in the copy shows as a step of 0 or less; a lost one as a step of 2 or more.
    for (const table of ['public.accounts', 'public.items']) {
      const last = new Map<string, number>();
      const bad: string[] = [];
      for (const event of events.filter((e) => e.table === table && e.op !== 'T')) {
        const id = String((event.after ?? event.before)!.id);
        if (event.op === 'R' || event.op === 'I') last.set(id, event.after!.v as number);
        else if (event.op === 'D') last.delete(id);
        else if (event.op === 'U') {
          const previous = last.get(id);
          if (previous !== undefined && event.after!.v !== previous + 1) bad.push(`${table} ${id}: ${previous} → ${String(event.after!.v)}`);
          last.set(id, event.after!.v as number);
        }
      }
      expect(bad.slice(0, 5)).toEqual([]);
    }

    // accounts kept the copy made under the slot's own snapshot: not copied again.
    const [accountsAfter] = await query<{ rows_copied: string; snapshot_lsn: string; copied_rows: string }>(
      dbs.buffer.url,
      `SELECT b.rows_copied::text, b.snapshot_lsn::text,
              (SELECT count(*) FROM cdc_events e WHERE e.table_id = b.table_id AND e.op = 'R')::text AS copied_rows
         FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'accounts'`,
    );
    expect(accountsAfter).toEqual({ rows_copied: accountsCopy.rows_copied, snapshot_lsn: accountsCopy.snapshot_lsn, copied_rows: accountsCopy.rows_copied });

    // Progress was visible: per-table log lines and the metrics of the run that finished.
    const finished = started.logs.find((line) => line.message === 'initial copy of table finished' && line.table === 'public.items');
    const [itemsDone] = await query<{ rows_copied: string }>(dbs.buffer.url, "SELECT rows_copied::text FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'items'");
    expect(finished?.rowsCopied).toBe(Number(itemsDone.rows_copied));
    const metrics = (await httpGet(`${final.base}/metrics`)).body;
    expect(metrics).toContain(`philotes_cdc_backfill_rows_total{table="public.items",app="wal-reader"} ${itemsDone.rows_copied}`);
    expect(metrics).toContain('philotes_cdc_backfill_tables_pending{app="wal-reader"} 0');
  });
});
