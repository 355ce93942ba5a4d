import { Client } from 'pg';
import { api, RunningAdmin, startAdmin } from '../support/admin';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

interface View {
  instances: Array<{ app: string; state: string; reason: string | null; alive: boolean; details: Record<string, unknown> }>;
  sources: Array<{ source: string; paused: boolean; pauseReason: string | null; checkpointLsn: string | null }>;
  tables: Array<{ table: string; paused: boolean; appliedLsn: string | null; lagSeconds: number; openDeadLetters: number }>;
}

/** Real: reader, writer and dlq-admin processes; pause and resume through the API, observed in the processes' own state. */
describe('pause and resume through the admin API', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let reader: RunningReader;
  let writer: RunningWriter;
  let admin: RunningAdmin;

  const view = async (): Promise<View> => (await api<View>(admin, 'GET', '/api/v1/pipelines')).body;
  const instance = (v: View, app: string) => v.instances.find((i) => i.app === app && i.alive && i.state !== 'stopped');
  const eventCount = async (table: string) =>
    Number((await query<{ n: string }>(dbs.buffer.url, 'SELECT count(*)::text AS n FROM cdc_events e JOIN cdc_tables t USING (table_id) WHERE t.table_name = $1', [table]))[0].n);
  const appliedOf = async (table: string) =>
    (await query<{ lsn: string | null }>(dbs.buffer.url, 'SELECT p.applied_lsn::text AS lsn FROM cdc_tables t LEFT JOIN cdc_writer_progress p USING (table_id) WHERE t.table_name = $1', [table]))[0]?.lsn;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE a (id int PRIMARY KEY, v int)');
    await source.query('CREATE TABLE b (id int PRIMARY KEY, v int)');
    reader = await startReader(dbs);
    writer = await startWriter(dbs, tempWarehouse());
    // The view calls a process alive within three of the admin's heartbeat intervals; the reader and
    // writer beat every 300 ms, so 2 s (a 6 s window) spares the test a loaded machine's pauses.
    admin = await startAdmin(dbs.buffer.url, { PHILOTES_HEARTBEAT_INTERVAL: '2s' });
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await source.query('INSERT INTO a VALUES (1, 1)');
    await source.query('INSERT INTO b VALUES (1, 1)');
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
  });

  afterAll(async () => {
    await Promise.all([writer?.process.stop(), admin?.process.stop(), reader?.process.stop()]);
    await source?.end();
    await dbs?.drop();
  });

  it('shows every process, source and table', async () => {
    // The state rows follow each process's heartbeat: poll until one view shows all of it (a failed
    // expectation retries; the last one is reported if it never holds).
    await eventually('one view showing every process, source and table', async () => {
      const v = await view();
      expect(instance(v, 'wal-reader')).toMatchObject({ state: 'running', details: expect.objectContaining({ confirmedLsn: expect.any(String) }) });
      expect(instance(v, 'iceberg-writer')).toMatchObject({ state: 'running', details: expect.objectContaining({ tables: ['public.a', 'public.b'] }) });
      expect(instance(v, 'dlq-admin')).toMatchObject({ state: 'running' });
      expect(v.sources).toEqual([expect.objectContaining({ source: 'test', paused: false, checkpointLsn: expect.any(String) })]);
      expect(v.tables.map((t) => [t.table, t.paused, t.lagSeconds, t.openDeadLetters, t.appliedLsn !== null])).toEqual([
        ['a', false, 0, 0, true],
        ['b', false, 0, 0, true],
      ]);
      return v;
    });
  });

  it('pauses and resumes a source: the reader says so in its state, and loses nothing', async () => {
    const paused = await api(admin, 'POST', '/api/v1/sources/test/pause', { body: { reason: 'source maintenance', requestedBy: 'ops' } });
    expect([paused.status, paused.body]).toEqual([200, { source: 'test', paused: true, changed: true }]);
    const v = await eventually('the reader to report the pause', async () => {
      const current = await view();
      return instance(current, 'wal-reader')?.state === 'paused' ? current : undefined;
    }, { timeoutMs: 15_000 });
    expect(instance(v, 'wal-reader')!.reason).toBe('paused by operator: source maintenance');
    expect(v.sources[0]).toMatchObject({ paused: true, pauseReason: 'source maintenance' });
    expect(v.tables.every((t) => t.paused)).toBe(true);

    const before = await eventCount('a');
    await source.query('INSERT INTO a SELECT g, g FROM generate_series(2, 50) g');
    // The reader keeps beating (alive, paused) while the rows wait in the source; the reader-pause test proves they were offered to it.
    const beat = async () => (await query<{ at: string }>(dbs.buffer.url, "SELECT heartbeat_at::text AS at FROM pipeline_instances WHERE app = 'wal-reader' AND state = 'paused'"))[0]?.at;
    const first = await beat();
    await eventually('another reader heartbeat', async () => (await beat()) !== first);
    expect(await eventCount('a')).toBe(before);

    expect((await api(admin, 'POST', '/api/v1/sources/test/resume', { body: {} })).body).toEqual({ source: 'test', paused: false, changed: true, failuresCleared: 0 });
    await eventually('the reader to run again', async () => instance(await view(), 'wal-reader')?.state === 'running', { timeoutMs: 15_000 });
    await waitCaughtUp(dbs);
    expect(await eventCount('a')).toBe(before + 49);
    await waitWriterCaughtUp(dbs.buffer.url);
  });

  it('pauses and resumes one table: writers let it go and say so, the other table keeps flowing', async () => {
    expect((await api(admin, 'POST', '/api/v1/sources/test/tables/public/a/pause', { body: { reason: 'rewrite' } })).status).toBe(200);
    await eventually('the writer to report the paused table', async () => {
      const details = instance(await view(), 'iceberg-writer')?.details;
      return details && (details.pausedTables as string[] | undefined)?.includes('test:public.a') && !(details.tables as string[]).includes('public.a');
    }, { timeoutMs: 15_000 });
    const appliedA = await appliedOf('a');
    const appliedB = await appliedOf('b');
    await source.query('INSERT INTO a VALUES (100, 1)');
    await source.query('INSERT INTO b VALUES (100, 1)');
    await waitCaughtUp(dbs);
    await eventually('table b to be applied', async () => (await appliedOf('b')) !== appliedB);
    expect(await appliedOf('a')).toBe(appliedA);
    // A table pause is the writers' business: the reader is still running (and alive in the view).
    await eventually('the reader to show running', async () => instance(await view(), 'wal-reader')?.state === 'running', { timeoutMs: 15_000 });

    await api(admin, 'POST', '/api/v1/sources/test/tables/public/a/resume', { body: {} });
    await waitWriterCaughtUp(dbs.buffer.url);
    expect(await appliedOf('a')).not.toBe(appliedA);
    // The state row changes with the writer's next heartbeat, which may come after the commit.
    await eventually('the writer to report no paused table', async () => instance(await view(), 'iceberg-writer')?.details.pausedTables === undefined, { timeoutMs: 15_000 });
  });
});
