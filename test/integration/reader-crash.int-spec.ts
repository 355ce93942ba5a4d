import { Client } from 'pg';
import { AppProcess } from '../support/app-process';
import { bufferedEvents, CaptureDatabases, createCaptureDatabases, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { eventually } from '../support/eventually';
import { query } from '../support/database';
import { oracleTransactions, seededRandom, Workload } from '../support/workload';

const TABLE = 'public.items';
const SEED = Number(process.env.PHILOTES_TEST_SEED ?? 20261121);

/**
 * Real: source and buffer PostgreSQL, the built wal-reader killed with SIGKILL (by fault injection
 * at named points, and from outside at random moments) while a workload runs. The oracle is a
 * test_decoding slot on the same source, read without consuming it: PostgreSQL's own account of
 * every committed transaction. After the last restart the buffer must hold every one of them
 * exactly once, in commit order.
 */
describe('wal-reader: kill -9 during a running workload loses and duplicates nothing', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let workload: Workload;
  const oracleSlot = `oracle_${SEED}`;
  let reader: AppProcess | undefined;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, note text)');
    await source.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [oracleSlot]);
  });

  afterAll(async () => {
    await workload?.stop().catch(() => undefined);
    await reader?.stop();
    await source?.end();
    await dbs?.drop();
  });

  /** Runs the reader until the fault kills it; fails if it does not die within the deadline. */
  async function runUntilKilled(faults: string, whenStreaming?: (reader: AppProcess) => Promise<void>): Promise<void> {
    const started = await startReader(dbs, readerSettings({ PHILOTES_FAULTS: faults }));
    reader = started.process;
    if (whenStreaming) {
      await reader.waitForLog('streaming', (line) => line.message === 'streaming');
      await whenStreaming(reader);
    }
    const exit = await eventually(`the reader to crash at ${faults}`, async () => (reader!.running ? undefined : reader!.exit()), { timeoutMs: 60_000 }).catch(async (error: unknown) => {
      const checkpoint = await query(dbs.buffer.url, 'SELECT confirmed_lsn::text, partial_commit_lsn::text, partial_seq FROM cdc_checkpoints');
      const recent = await query(dbs.buffer.url, "SELECT commit_lsn::text, min(seq), max(seq), count(*), min(xid) FROM cdc_events WHERE seq >= 0 GROUP BY 1 ORDER BY 1 DESC LIMIT 6");
      throw new Error(`${(error as Error).message}; checkpoint ${JSON.stringify(checkpoint)} recent ${JSON.stringify(recent)}; reader said:\n${reader!.output.slice(-30).join('\n')}`);
    });
    expect(exit.signal).toBe('SIGKILL');
    expect(reader.output.join('\n')).toContain(`fault injection: crashing at ${faults.split(':')[0]}`);
    await expectCheckpointCoversBuffer();
  }

  /**
   * The invariant a crash must never break: every stored event is covered by the checkpoint —
   * before its position, or part of the one transaction recorded as stored in part.
   */
  async function expectCheckpointCoversBuffer(): Promise<void> {
    const beyond = await query<{ commit_lsn: string; seq: string }>(
      dbs.buffer.url,
      `SELECT e.commit_lsn::text, e.seq::text FROM cdc_events e, cdc_checkpoints c
        WHERE e.seq >= 0 AND e.commit_lsn >= c.confirmed_lsn
          AND NOT (e.commit_lsn = c.partial_commit_lsn AND e.seq <= c.partial_seq)
        ORDER BY 1, 2 LIMIT 5`,
    );
    expect(beyond).toEqual([]);
  }

  const readerSettings = (extra: Record<string, string> = {}) => ({
    PHILOTES_CDC_BATCH_SIZE: '100',
    PHILOTES_CDC_BUFFER_SIZE: '500',
    PHILOTES_BACKPRESSURE_ENABLED: 'false',
    ...extra,
  });

  it('holds every source change exactly once, in commit order, after crashes at six points and random kills', async () => {
    // 1. Crash right after the slot is created, before the checkpoint exists.
    await runUntilKilled('reader.after-slot-created:1');

    // 2. The next run finds a slot but no checkpoint: it starts from the slot and copies the still
    // empty table beside the stream; the workload starts once that copy is done, so every change
    // comes by the stream (a copy planned later would hold the changes its snapshot shows).
    workload = new Workload(source, { table: TABLE, seed: SEED, bigEvery: 12, bigRows: 350, firstId: 1 });
    await runUntilKilled('reader.before-commit:3', async (running) => {
      await running.waitForLog('the copy beside the stream', (line) => line.message === 'initial copy finished');
      workload.start();
    });

    // 3-8. Crash at each point of the batch / commit / acknowledge cycle, and in the middle of a
    // transaction larger than a batch (stored in parts).
    for (const point of ['reader.after-copy:2', 'reader.after-commit:4', 'reader.after-ack:3', 'reader.before-partial-commit:1', 'reader.after-copy:5', 'reader.before-partial-commit:3']) {
      await runUntilKilled(point);
    }

    // 8. kill -9 from outside at random moments.
    const random = seededRandom(SEED);
    for (let kill = 0; kill < 3; kill++) {
      const started = await startReader(dbs, readerSettings());
      reader = started.process;
      await reader.waitForLog('streaming', (line) => line.message === 'streaming');
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(random() * 600)));
      reader.signal('SIGKILL');
      await reader.exit();
    }

    // Let it catch up without faults, then compare with the oracle.
    const started = await startReader(dbs, readerSettings());
    reader = started.process;
    await workload.stop();
    await waitCaughtUp(dbs);

    const expected = await oracleTransactions(source, oracleSlot, TABLE);
    const events = (await bufferedEvents(dbs.buffer.url)).filter((e) => !e.copied);
    const actual: Array<{ xid: number; changes: string[] }> = [];
    for (const event of events) {
      const last = actual.at(-1);
      const change = `${{ I: 'I', U: 'U', D: 'D' }[event.op]}:${String((event.after ?? event.before)!.id)}`;
      if (last && last.xid === event.xid) last.changes.push(change);
      else actual.push({ xid: event.xid!, changes: [change] });
    }
    expect(workload.transactions).toBeGreaterThan(50);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);

    // Each event's identity is unique (the primary key would refuse a duplicate anyway) and the
    // checkpoint ended whole: no transaction left stored in part.
    const [checkpoint] = await query<{ partial: string | null }>(dbs.buffer.url, 'SELECT partial_commit_lsn::text AS partial FROM cdc_checkpoints');
    expect(checkpoint.partial).toBeNull();
  });
});
