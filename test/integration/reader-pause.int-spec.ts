import { Client } from 'pg';
import { CONTROL_CHANNEL } from '@philotes/buffer';
import { parseLsn } from '@philotes/pgoutput';
import { AppProcess } from '../support/app-process';
import { bufferedEvents, CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { oracleTransactions } from '../support/workload';

const TABLE = 'public.items';
const SOURCE = 'test';

interface InstanceRow {
  state: string;
  reason: string | null;
  heartbeat_at: Date;
  details: Record<string, unknown>;
}

const instance = async (dbs: CaptureDatabases, instanceId: string): Promise<InstanceRow | undefined> =>
  (await query<{ state: string; reason: string | null; heartbeat_at: Date; details: Record<string, unknown> }>(
    dbs.buffer.url,
    'SELECT state, reason, heartbeat_at, details FROM pipeline_instances WHERE instance_id = $1',
    [instanceId],
  ))[0];

/** What dlq-admin does: set the control row (a whole source when tableId is null), then NOTIFY. */
async function control(dbs: CaptureDatabases, command: { paused: boolean; reason?: string; tableId?: number }): Promise<void> {
  await query(
    dbs.buffer.url,
    `INSERT INTO pipeline_controls (source_id, table_id, paused, reason, requested_by) VALUES ($1, $2, $3, $4, 'reader-pause test')
     ON CONFLICT (source_id, (coalesce(table_id, 0))) DO UPDATE SET paused = EXCLUDED.paused, reason = EXCLUDED.reason, updated_at = now()`,
    [SOURCE, command.tableId ?? null, command.paused, command.reason ?? null],
  );
  await query(dbs.buffer.url, 'SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, JSON.stringify({ s: SOURCE })]);
}

/**
 * Waits for the instance row to show `state` (and `reason`). With `actedOnCommand`, the reader was
 * running when the command came, and the README promises it acts within a second: the transition's
 * time less the command's (both stamped on this machine, not by the test's polling) must stay
 * within a few seconds, room for a loaded CI machine but far short of a missed command.
 */
async function expectState(dbs: CaptureDatabases, instanceId: string, state: string, reason: string, { actedOnCommand }: { actedOnCommand: boolean }): Promise<InstanceRow> {
  const row = await eventually(
    `${instanceId} to be ${state} (${reason})`,
    async () => {
      const now = await instance(dbs, instanceId);
      return now?.state === state && now.reason === reason ? now : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  if (actedOnCommand) {
    const [latency] = await query<{ ms: number }>(
      dbs.buffer.url,
      `SELECT (extract(epoch FROM t.at - c.updated_at) * 1000)::float8 AS ms
         FROM pipeline_transitions t, pipeline_controls c
        WHERE t.instance_id = $1 AND t.to_state = $2 AND t.reason = $3 AND c.source_id = $4 AND c.table_id IS NULL
        ORDER BY t.id DESC LIMIT 1`,
      [instanceId, state, reason, SOURCE],
    );
    expect(latency).toBeDefined();
    expect(latency.ms).toBeGreaterThanOrEqual(0);
    expect(latency.ms).toBeLessThan(5_000);
  }
  return row;
}

/** Waits until the reader has published its state twice more: it has been running for a while since. */
async function twoMoreHeartbeats(dbs: CaptureDatabases, instanceId: string): Promise<void> {
  let seen = (await instance(dbs, instanceId))!.heartbeat_at.getTime();
  for (let beat = 0; beat < 2; beat++) {
    seen = await eventually(`heartbeat ${beat + 1} of ${instanceId}`, async () => {
      const at = (await instance(dbs, instanceId))!.heartbeat_at.getTime();
      return at > seen ? at : undefined;
    });
  }
}

// Rows and streamed events; a copy's opening TRUNCATE (op T, a negative position) is neither.
const storedCount = async (dbs: CaptureDatabases): Promise<number> => Number((await query<{ n: string }>(dbs.buffer.url, "SELECT count(*)::text AS n FROM cdc_events WHERE NOT (op = 'T' AND seq < 0)"))[0].n);

/** The buffer's events of the test table as the oracle lists transactions: xid and "op:id" changes. */
async function bufferTransactions(dbs: CaptureDatabases): Promise<Array<{ xid: number; changes: string[] }>> {
  const transactions: Array<{ xid: number; changes: string[] }> = [];
  for (const event of (await bufferedEvents(dbs.buffer.url)).filter((e) => !e.copied && e.table === TABLE)) {
    const change = `${event.op}:${String((event.after ?? event.before)!.id)}`;
    const last = transactions.at(-1);
    if (last && last.xid === event.xid) last.changes.push(change);
    else transactions.push({ xid: event.xid!, changes: [change] });
  }
  return transactions;
}

/** Writes made during a pause: inserts in several transactions and updates of rows stored before it. */
async function writeWhilePaused(source: Client, firstId: number): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await source.query("INSERT INTO items SELECT g, g, 'paused' FROM generate_series($1::bigint, $1::bigint + 19) g", [firstId + i * 20]);
  }
  await source.query('UPDATE items SET v = v + 1 WHERE id <= 10');
}

/** Real: source and buffer PostgreSQL, built wal-reader processes; operator commands are SQL + NOTIFY as dlq-admin sends them. */
describe('wal-reader obeying an operator pause of its source', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  const readers: RunningReader[] = [];
  const oracleSlot = `oracle_pause_${process.pid}`;

  beforeEach(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, note text)');
    await source.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [oracleSlot]);
  });

  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.process.stop()));
    await source.end();
    await dbs.drop();
  });

  const start = async (instanceId: string) => {
    const reader = await startReader(dbs, { PHILOTES_INSTANCE_ID: instanceId, PHILOTES_CDC_BATCH_SIZE: '100', PHILOTES_BACKPRESSURE_ENABLED: 'false' });
    readers.push(reader);
    return reader;
  };

  it('pauses within a second, reads nothing while paused yet keeps its connection, and resumes losing and duplicating nothing', async () => {
    const reader = await start('reader-p');
    await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
    await source.query("INSERT INTO items SELECT g, g, 'before' FROM generate_series(1, 100) g");
    await waitCaughtUp(dbs);
    const storedBefore = await storedCount(dbs);
    expect(storedBefore).toBe(100);
    const slot = async () =>
      (await query<{ pid: number | null; active: boolean; confirmed: string }>(dbs.source.url, 'SELECT active_pid AS pid, active, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1', [dbs.slot]))[0];
    const walsender = (await slot()).pid;
    expect(walsender).not.toBeNull();

    await control(dbs, { paused: true, reason: 'schema migration' });
    const paused = await expectState(dbs, 'reader-p', 'paused', 'paused by operator: schema migration', { actedOnCommand: true });
    expect(paused.details).toMatchObject({ role: 'active', operatorPause: { reason: 'schema migration' } });
    const logged = await reader.process.waitForLog('the pause', (line) => line.message === 'source paused by operator');
    expect(logged).toMatchObject({ level: 'info', source: SOURCE, reason: 'schema migration' });

    // Writes during the pause. The source sends them (its walsender read that far), the reader
    // keeps sending status updates, and it publishes two more heartbeats: it had every chance to
    // store them, and stored none.
    const [{ lsn: pausedFrom }] = await query<{ lsn: string }>(dbs.source.url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    await writeWhilePaused(source, 101);
    const [{ lsn: written, at: writtenAt }] = await query<{ lsn: string; at: Date }>(dbs.source.url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn, clock_timestamp() AS at');
    const replication = async () =>
      (await query<{ state: string; sent: string; reply: Date }>(dbs.source.url, 'SELECT state, sent_lsn::text AS sent, reply_time AS reply FROM pg_stat_replication WHERE pid = $1', [walsender]))[0];
    await eventually('the walsender to send the paused writes', async () => parseLsn((await replication())?.sent ?? '0/0') >= parseLsn(written), { timeoutMs: 10_000 });
    await eventually('a status update from the paused reader', async () => ((await replication())?.reply.getTime() ?? 0) > writtenAt.getTime(), { timeoutMs: 5_000 });
    await twoMoreHeartbeats(dbs, 'reader-p');
    expect(await storedCount(dbs)).toBe(storedBefore);
    expect((await instance(dbs, 'reader-p'))?.state).toBe('paused');
    // The same replication connection, still streaming; nothing confirmed past what the buffer holds.
    expect((await replication())?.state).toBe('streaming');
    expect(await slot()).toMatchObject({ pid: walsender, active: true });
    const [{ lsn: stored }] = await query<{ lsn: string }>(dbs.buffer.url, 'SELECT confirmed_lsn::text AS lsn FROM cdc_checkpoints');
    expect(parseLsn(stored)).toBeLessThanOrEqual(parseLsn(pausedFrom));
    expect(parseLsn((await slot()).confirmed)).toBeLessThanOrEqual(parseLsn(stored));

    await control(dbs, { paused: false });
    const resumed = await expectState(dbs, 'reader-p', 'running', 'resumed by operator', { actedOnCommand: true });
    expect(resumed.details).not.toHaveProperty('operatorPause');
    expect(await reader.process.waitForLog('the resume', (line) => line.message === 'source resumed by operator')).toMatchObject({ level: 'info', source: SOURCE });
    await waitCaughtUp(dbs);

    // Every transaction of the source, exactly once and in order, the paused ones included.
    const expected = await oracleTransactions(source, oracleSlot, TABLE);
    expect(expected).toHaveLength(12);
    expect(await bufferTransactions(dbs)).toEqual(expected);
    expect(await storedCount(dbs)).toBe(100 + 200 + 10);
    expect(await slot()).toMatchObject({ pid: walsender, active: true });
    const transitions = await query<{ to_state: string; reason: string }>(dbs.buffer.url, "SELECT to_state, reason FROM pipeline_transitions WHERE instance_id = 'reader-p' ORDER BY id");
    expect(transitions.slice(-2)).toEqual([
      { to_state: 'paused', reason: 'paused by operator: schema migration' },
      { to_state: 'running', reason: 'resumed by operator' },
    ]);
    // Operator text and the source id only: no row values in the pause and resume lines.
    const lines = reader.process.logs.filter((line) => /by operator/.test(String(line.message)));
    expect(lines.map((line) => Object.keys(line).filter((key) => !['level', 'message', 'timestamp', 'app', 'instance', 'source', 'reason'].includes(key)))).toEqual([[], []]);
  });

  it('starts paused when the source was paused before it streamed, while a standby keeps standing by', async () => {
    // The buffer schema first (as a deployment's migrate step makes it), then the pause.
    expect(await AppProcess.start('wal-reader', { PHILOTES_DATABASE_URL: dbs.buffer.url }, ['migrate']).exit()).toEqual({ code: 0, signal: null });
    await control(dbs, { paused: true });
    const reader = await start('reader-early');
    await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
    // Paused before the reader started: it never streams (the transitions below), whatever the time.
    const paused = await expectState(dbs, 'reader-early', 'paused', 'paused by operator', { actedOnCommand: false });
    expect(paused.details).toMatchObject({ operatorPause: { reason: null } });
    // It never ran the stream: from copying the (empty) tables straight to paused.
    const transitions = await query<{ to_state: string; reason: string }>(dbs.buffer.url, "SELECT to_state, reason FROM pipeline_transitions WHERE instance_id = 'reader-early' ORDER BY id");
    expect(transitions).toEqual([
      { to_state: 'running', reason: 'copying the existing rows' },
      { to_state: 'paused', reason: 'paused by operator' },
    ]);

    const standby = await start('reader-standby');
    await standby.process.waitForLog('standing by', (line) => line.message === 'standing by: another reader leads this source');
    await eventually('the standby state row', async () => (await instance(dbs, 'reader-standby'))?.details.role === 'standby');

    await writeWhilePaused(source, 1);
    const [{ lsn: written }] = await query<{ lsn: string }>(dbs.source.url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const sent = async () => (await query<{ sent: string }>(dbs.source.url, 'SELECT r.sent_lsn::text AS sent FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1', [dbs.slot]))[0]?.sent;
    await eventually('the walsender to send the paused writes', async () => parseLsn((await sent()) ?? '0/0') >= parseLsn(written), { timeoutMs: 10_000 });
    await twoMoreHeartbeats(dbs, 'reader-early');
    expect(await storedCount(dbs)).toBe(0);
    expect(await instance(dbs, 'reader-standby')).toMatchObject({ state: 'running', reason: 'standby' });
    expect((await instance(dbs, 'reader-standby'))?.details).not.toHaveProperty('operatorPause');

    await control(dbs, { paused: false, reason: 'done' });
    await expectState(dbs, 'reader-early', 'running', 'resumed by operator', { actedOnCommand: true });
    await waitCaughtUp(dbs);
    expect(await bufferTransactions(dbs)).toEqual(await oracleTransactions(source, oracleSlot, TABLE));
    expect(await storedCount(dbs)).toBe(210);
    expect(await instance(dbs, 'reader-standby')).toMatchObject({ state: 'running', reason: 'standby' });
  });

  it('keeps capturing a table an operator paused for the writers', async () => {
    const reader = await start('reader-table');
    await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
    await source.query("INSERT INTO items VALUES (1, 1, 'first')");
    await waitCaughtUp(dbs);
    const [{ table_id: tableId }] = await query<{ table_id: number }>(dbs.buffer.url, "SELECT table_id FROM cdc_tables WHERE table_name = 'items'");

    await control(dbs, { paused: true, reason: 'rewriting the Iceberg table', tableId });
    // A second after the command (the buffer's clock), the reader has looked more than once.
    const [{ at: commandAt }] = await query<{ at: Date }>(dbs.buffer.url, 'SELECT updated_at AS at FROM pipeline_controls WHERE table_id = $1', [tableId]);
    await eventually('a heartbeat a second after the command', async () => ((await instance(dbs, 'reader-table'))?.heartbeat_at.getTime() ?? 0) > commandAt.getTime() + 1_000);
    const row = await instance(dbs, 'reader-table');
    expect(row).toMatchObject({ state: 'running', reason: 'streaming' });
    expect(row?.details).not.toHaveProperty('operatorPause');

    await writeWhilePaused(source, 2);
    await waitCaughtUp(dbs);
    expect(await storedCount(dbs)).toBe(1 + 200 + 10);
    expect(await bufferTransactions(dbs)).toEqual(await oracleTransactions(source, oracleSlot, TABLE));
    expect(reader.process.logs.some((line) => /by operator/.test(String(line.message)))).toBe(false);
  });
});
