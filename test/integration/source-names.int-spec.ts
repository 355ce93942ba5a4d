import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { readIcebergTable, RunningWriter, startWriter, tempWarehouse } from '../support/writer';

describe('names a source may use', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader | undefined;
  let writer: RunningWriter | undefined;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query('CREATE TABLE items (id int PRIMARY KEY, v text); CREATE TABLE clash (_cdc_op text, v int)');
    await source.query("INSERT INTO items VALUES (1, 'copied'); INSERT INTO clash VALUES ('mine', 1)");
    await source.end();
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await dbs?.drop();
  });

  it('streams through a publication whose name has capitals, and refuses an append table with a change-log column name', async () => {
    reader = await startReader(dbs, { PHILOTES_CDC_PUBLICATION: 'Pub_Mixed' });
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    writer = await startWriter(dbs, tempWarehouse());
    const source = await sourceClient(dbs);
    await source.query("INSERT INTO items VALUES (2, 'streamed'); INSERT INTO clash VALUES ('also mine', 2)");
    await source.end();
    await waitCaughtUp(dbs);
    const [{ pubname }] = await query<{ pubname: string }>(dbs.source.url, 'SELECT pubname FROM pg_publication');
    expect(pubname).toBe('Pub_Mixed');

    // items flows; clash (append mode: no key) would have its own _cdc_op overwritten, so it is refused.
    await eventually('items mirrored', async () => (await readIcebergTable(dbs.buffer.url, 'public', 'items'))?.rows.length === 2);
    const refused = await writer.process.waitForLog('the clash', (line) => /its column _cdc_op has the name of a change-log column/.test(String((line.error as { message?: string } | undefined)?.message)));
    expect(String((refused.error as { message: string }).message)).toBe('table public.clash: its column _cdc_op has the name of a change-log column append mode adds (_cdc_op, _cdc_lsn, _cdc_commit_ts, _cdc_seq)');
    expect(refused.action).toMatch(/rename the source column/);
    expect(await readIcebergTable(dbs.buffer.url, 'public', 'clash')).toBeUndefined();
    const behind = await query<{ n: number }>(dbs.buffer.url, "SELECT count(*)::int AS n FROM cdc_events e JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'clash' AND NOT (e.op = 'T' AND e.seq < 0)"); // its copy's TRUNCATE aside
    expect(behind[0].n).toBe(2); // waiting in the buffer, nothing lost

  });
});
