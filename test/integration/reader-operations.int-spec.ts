import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres } from '@philotes/embedded-pg';
import { decodeWakeUp } from '@philotes/buffer';
import { parseLsn } from '@philotes/pgoutput';
import { eventuallyStatus, httpGet } from '../support/app-process';
import { bufferedEvents, CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { createTestDatabase, query } from '../support/database';
import { eventually } from '../support/eventually';
import { oracleTransactions, Workload } from '../support/workload';
import { testPort } from '../support/ports';
import { metricValue } from '../support/metrics';

const TABLE = 'public.items';

/** Groups buffer events into transactions as the oracle lists them. */
async function bufferTransactions(bufferUrl: string): Promise<Array<{ xid: number; changes: string[] }>> {
  const transactions: Array<{ xid: number; changes: string[] }> = [];
  for (const event of (await bufferedEvents(bufferUrl)).filter((e) => !e.copied && e.table === TABLE)) {
    const change = `${event.op}:${String((event.after ?? event.before)!.id)}`;
    const last = transactions.at(-1);
    if (last && last.xid === event.xid) last.changes.push(change);
    else transactions.push({ xid: event.xid!, changes: [change] });
  }
  return transactions;
}

async function expectExactlyOnce(dbs: CaptureDatabases, source: Client, oracleSlot: string): Promise<void> {
  await waitCaughtUp(dbs);
  const expected = await oracleTransactions(source, oracleSlot, TABLE);
  expect(expected.length).toBeGreaterThan(10);
  expect(await bufferTransactions(dbs.buffer.url)).toEqual(expected);
}

async function prepare(dbs: CaptureDatabases, oracleSlot: string): Promise<Client> {
  const source = await sourceClient(dbs);
  await source.query('CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, note text)');
  await source.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [oracleSlot]);
  return source;
}

const instanceState = async (bufferUrl: string, instanceId: string) =>
  (await query<{ state: string; reason: string | null; details: Record<string, unknown> }>(bufferUrl, 'SELECT state, reason, details FROM pipeline_instances WHERE instance_id = $1', [instanceId]))[0];

/** Real: source and buffer PostgreSQL, built wal-reader processes, real connection failures. */
describe('wal-reader in operation', () => {
  describe('on the shared server', () => {
    let dbs: CaptureDatabases;
    let source: Client;
    let workload: Workload | undefined;
    const readers: RunningReader[] = [];
    const oracleSlot = `oracle_ops_${process.pid}`;

    beforeEach(async () => {
      dbs = await createCaptureDatabases();
      source = await prepare(dbs, oracleSlot);
    });

    afterEach(async () => {
      await workload?.stop();
      workload = undefined;
      await Promise.all(readers.splice(0).map((r) => r.process.stop()));
      await source.end();
      await dbs.drop();
    });

    const start = async (extra: Record<string, string> = {}) => {
      const reader = await startReader(dbs, { PHILOTES_CDC_BATCH_SIZE: '100', PHILOTES_BACKPRESSURE_ENABLED: 'false', ...extra });
      readers.push(reader);
      return reader;
    };

    it('a standby takes over within seconds when the active reader is killed, losing and duplicating nothing', async () => {
      const active = await start({ PHILOTES_INSTANCE_ID: 'reader-a' });
      await active.process.waitForLog('streaming', (line) => line.message === 'streaming');
      const standby = await start({ PHILOTES_INSTANCE_ID: 'reader-b' });
      await standby.process.waitForLog('standing by', (line) => line.message === 'standing by: another reader leads this source');
      const ready = await eventuallyStatus(`${standby.base}/health/ready`, 200);
      expect(ready.json()).toMatchObject({ details: { replication: { role: 'standby' } } });
      await eventually('the standby state row', async () => (await instanceState(dbs.buffer.url, 'reader-b'))?.details.role === 'standby');

      workload = new Workload(source, { table: TABLE, seed: 3, bigEvery: 20, bigRows: 250, firstId: 1 });
      workload.start();
      await eventually('some changes to stream', () => workload!.transactions > 30);

      const killedAt = Date.now();
      active.process.signal('SIGKILL');
      await standby.process.waitForLog('the takeover', (line) => line.message === 'streaming', 15_000);
      const takeoverMs = Date.now() - killedAt;
      expect(takeoverMs).toBeLessThan(15_000);
      await eventually('the new leader in the state row', async () => (await instanceState(dbs.buffer.url, 'reader-b'))?.details.role === 'active');

      await workload.stop();
      workload = undefined;
      await expectExactlyOnce(dbs, source, oracleSlot);
    });

    it('wakes writers with a NOTIFY once a batch is committed', async () => {
      const listener = new Client({ connectionString: dbs.buffer.url });
      await listener.connect();
      const heard: Array<{ channel: string; payload?: string; committed: string }> = [];
      listener.on('notification', (message) => {
        // The events must already be visible when the notification arrives.
        void query<{ n: string }>(dbs.buffer.url, 'SELECT count(*)::text AS n FROM cdc_events WHERE seq >= 0').then(([row]) =>
          heard.push({ channel: message.channel, payload: message.payload, committed: row.n }),
        );
      });
      await listener.query('LISTEN philotes_events');
      try {
        const reader = await start();
        await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
        // The finished (empty) initial copy notifies too; then the batch of ten inserts does.
        await eventually('the copy notification', () => heard.length >= 1);
        await source.query("INSERT INTO items SELECT g, g, 'n' FROM generate_series(1, 10) g");
        // Every batch notification finds its events already committed (the ten may come in parts).
        // Each batch names its table and how many events it added, so writers know what waits.
        const announced = () => heard.slice(1).reduce((sum, h) => sum + [...(decodeWakeUp(h.payload)?.tables?.values() ?? [])].reduce((n, t) => n + t.events, 0), 0);
        await eventually('notifications announcing all ten events', () => announced() === 10);
        for (const notification of heard.slice(1)) {
          expect(notification.channel).toBe('philotes_events');
          expect(decodeWakeUp(notification.payload)?.source).toBe('test');
          expect(Number(notification.committed)).toBeGreaterThan(0);
        }
      } finally {
        await listener.end();
      }
    });

    it('reconnects after its replication and buffer connections are terminated, showing it in its state', async () => {
      const reader = await start({ PHILOTES_INSTANCE_ID: 'reader-t' });
      await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
      workload = new Workload(source, { table: TABLE, seed: 4, bigEvery: 15, bigRows: 250, firstId: 1 });
      workload.start();

      for (const [url, filter] of [
        [dbs.source.url, `backend_type = 'walsender' AND datname = '${dbs.source.name}'`],
        [dbs.buffer.url, `application_name = 'philotes-wal-reader-leader' AND datname = '${dbs.buffer.name}'`],
      ] as const) {
        const reconnectsBefore = reader.process.logs.filter((line) => String(line.message).startsWith('reconnecting')).length;
        await eventually('some changes to stream', () => workload!.transactions > 20);
        const [terminated] = await query<{ n: string }>(url, `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE ${filter}`);
        expect(Number(terminated.n)).toBe(1);
        await eventually('a reconnect', () => reader.process.logs.filter((line) => String(line.message).startsWith('reconnecting')).length > reconnectsBefore);
        await eventually('streaming again', () => reader.process.logs.filter((line) => line.message === 'streaming').length > reconnectsBefore + 1);
      }
      const states = async () => (await query<{ to_state: string }>(dbs.buffer.url, "SELECT to_state FROM pipeline_transitions WHERE instance_id = 'reader-t' ORDER BY id")).map((t) => t.to_state);
      await eventually('the recorded transitions', async () => (await states()).length >= 5);
      expect(await states()).toEqual(['running', 'starting', 'running', 'starting', 'running']);

      await workload.stop();
      workload = undefined;
      await expectExactlyOnce(dbs, source, oracleSlot);
    });

    it('lets the slot advance on an idle source whose changes are all in unpublished tables', async () => {
      await source.query('CREATE TABLE published (id int PRIMARY KEY)');
      await source.query('CREATE TABLE unpublished (id int PRIMARY KEY, pad text)');
      await source.query('CREATE TABLE no_key (v int)');
      const reader = await start({ PHILOTES_CDC_TABLES: 'public.published,public.no_key' });
      await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
      // A published table without a replica identity is named at start: the source would refuse its updates.
      const warning = reader.process.logs.find((line) => /no replica identity/.test(String(line.message)));
      expect(warning?.tables).toEqual(['public.no_key']);
      // The oracle slot of this test would hold WAL back itself; it is not needed here.
      await source.query('SELECT pg_drop_replication_slot($1)', [oracleSlot]);

      const slotLsn = async () => parseLsn((await query<{ lsn: string }>(dbs.source.url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [dbs.slot]))[0].lsn);
      const before = await slotLsn();
      for (let i = 0; i < 20; i++) await source.query("INSERT INTO unpublished SELECT g, repeat('x', 200) FROM generate_series($1::int, $1::int + 499) g", [i * 500]);
      const [{ lsn }] = await query<{ lsn: string }>(dbs.source.url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
      const written = parseLsn(lsn);
      expect(written - before).toBeGreaterThan(1_000_000n);
      await eventually('the slot to move past the unpublished changes', async () => (await slotLsn()) >= written, { timeoutMs: 30_000 });

      // The lag metrics show an active slot holding back little WAL. They are measured every few
      // seconds, so the first may predate the slot's catch-up: poll until one measurement shows it all
      // (the last failed expectation is reported if none does).
      await eventually('the lag metrics of a caught-up slot', async () => {
        const metrics = (await httpGet(`${reader.base}/metrics`)).body;
        expect(metrics).toMatch(/^philotes_cdc_slot_active\{app="wal-reader"\} 1$/m);
        const lagBytes = Number(/^philotes_cdc_lag_bytes\{app="wal-reader"\} (\d+)/m.exec(metrics)?.[1]);
        expect(lagBytes).toBeLessThan(1_000_000);
        expect(metrics).toMatch(/^philotes_cdc_lag_seconds\{app="wal-reader"\} 0$/m);
        return true;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      expect((await bufferedEvents(dbs.buffer.url)).filter((e) => !e.copied).length).toBe(0);
    });

    it('stays quiet while idle: the position moves by a buffer commit about once a second, not once per keepalive', async () => {
      await source.query('CREATE TABLE unpublished (id int PRIMARY KEY)');
      const reader = await start({ PHILOTES_CDC_TABLES: TABLE, PHILOTES_CDC_CHECKPOINT_INTERVAL: '1s' });
      await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
      await source.query("INSERT INTO items SELECT g, g, 'n' FROM generate_series(1, 10) g");
      await waitCaughtUp(dbs);
      const slotLsn = async () => parseLsn((await query<{ lsn: string }>(dbs.source.url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [dbs.slot]))[0].lsn);
      // Every checkpoint update, counted exactly and stamped with the buffer's clock (test-only; the
      // buffer database is dropped after the test).
      await query(dbs.buffer.url, 'CREATE TABLE test_checkpoint_updates (at timestamptz NOT NULL DEFAULT clock_timestamp())');
      await query(
        dbs.buffer.url,
        `CREATE FUNCTION test_count_checkpoint_update() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO test_checkpoint_updates DEFAULT VALUES; RETURN NULL; END $$`,
      );
      await query(dbs.buffer.url, 'CREATE TRIGGER test_count_checkpoint_update AFTER UPDATE ON cdc_checkpoints FOR EACH ROW EXECUTE FUNCTION test_count_checkpoint_update()');

      // Source and buffer share this server: every buffer commit is WAL the source's walsender
      // decodes (and skips), then sends a keepalive for. An advance per keepalive fed itself, about
      // 2,500 tiny commits a second. A rate has no condition to poll: count the updates over at
      // least 3 s of the buffer's time (stopping early once the count is past the bound).
      for (let i = 0; i < 30; i++) await source.query('INSERT INTO unpublished VALUES ($1)', [i]);
      const [{ lsn }] = await query<{ lsn: string }>(dbs.source.url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
      const [{ since }] = await query<{ since: string }>(dbs.buffer.url, 'SELECT clock_timestamp()::text AS since');
      const bound = (elapsed: number) => Math.ceil(elapsed) + 3;
      const counted = await eventually('3 s of checkpoint updates', async () => {
        const [row] = await query<{ updates: number; elapsed: number }>(
          dbs.buffer.url,
          `SELECT (SELECT count(*) FROM test_checkpoint_updates WHERE at > $1::timestamptz)::int AS updates,
                  extract(epoch FROM clock_timestamp() - $1::timestamptz)::float8 AS elapsed`,
          [since],
        );
        return row.elapsed >= 3 || row.updates > bound(row.elapsed) ? row : undefined;
      }, { timeoutMs: 15_000, intervalMs: 200 });
      // About one a second (the checkpoint interval), with room for a commit or two more.
      expect(counted.updates).toBeLessThanOrEqual(bound(counted.elapsed));
      // The position still moves while idle.
      await eventually('the slot to move past the unpublished changes', async () => (await slotLsn()) >= parseLsn(lsn), { timeoutMs: 30_000 });
    });

    it('fails with a reason that says what to do when its slot is lost, and never recreates it', async () => {
      const first = await start();
      await first.process.waitForLog('streaming', (line) => line.message === 'streaming');
      await source.query('INSERT INTO items VALUES (1, 1, $1)', ['a']);
      await waitCaughtUp(dbs);

      // SIGTERM drains: exit 0, and the source has exactly the stored position.
      first.process.signal('SIGTERM');
      expect(await first.process.exit()).toEqual({ code: 0, signal: null });
      const [stored] = await query<{ lsn: string }>(dbs.buffer.url, 'SELECT confirmed_lsn::text AS lsn FROM cdc_checkpoints');
      const [acked] = await query<{ lsn: string }>(dbs.source.url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [dbs.slot]);
      expect(acked.lsn).toBe(stored.lsn);

      await source.query('SELECT pg_drop_replication_slot($1)', [dbs.slot]);
      const second = await start({ PHILOTES_INSTANCE_ID: 'reader-lost' });
      const failed = await second.process.waitForLog('the failure', (line) => line.message === 'pipeline state starting → failed');
      expect(String(failed.reason)).toMatch(new RegExp(`replication slot "${dbs.slot}" of source "test" is unusable: it no longer exists`));
      expect(String(failed.reason)).toMatch(/will not recreate the slot by itself\. To start this source over, resync it from scratch \(dlq-admin: POST \/api\/v1\/sources\/test\/resync with \{"fromScratch": true\}\)/);
      expect((await eventuallyStatus(`${second.base}/health/live`, 503)).json()).toMatchObject({ error: { lifecycle: { status: 'down' } } });
      expect(second.process.running).toBe(true);
      expect(await query(dbs.source.url, 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [dbs.slot])).toEqual([]);
      // Its state row follows asynchronously (the reporter's next write).
      await eventually('the failed state row', async () => (await instanceState(dbs.buffer.url, 'reader-lost'))?.state === 'failed');
    });
  });

  describe('with a source server of its own', () => {
    let server: EmbeddedPostgres;
    let dbs: CaptureDatabases;
    let source: Client;
    let reader: RunningReader | undefined;
    const oracleSlot = 'oracle_private';

    beforeEach(async () => {
      // A short wal_sender_timeout: a reader that stopped sending status updates would be dropped.
      server = new EmbeddedPostgres({ dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-src-')), 'pg'), port: await testPort(), fast: true, settings: { wal_sender_timeout: '2s' } });
      await server.initialise();
      await server.start();
      await server.createDatabase('source');
      const buffer = await createTestDatabase('philotes_buf');
      const suffix = String(process.pid);
      dbs = {
        source: { name: 'source', url: server.url('source'), drop: async () => undefined },
        buffer,
        slot: `slot_${suffix}`,
        publication: `pub_${suffix}`,
        drop: () => buffer.drop(),
      };
      source = await prepare(dbs, oracleSlot);
    });

    afterEach(async () => {
      await reader?.process.stop();
      reader = undefined;
      await source.end().catch(() => undefined);
      await dbs.drop();
      await server.stop();
    });

    it('rides out a source restart, losing and duplicating nothing', async () => {
      reader = await startReader(dbs, { PHILOTES_CDC_BATCH_SIZE: '100', PHILOTES_BACKPRESSURE_ENABLED: 'false' });
      await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
      // No max_slot_wal_keep_size: nothing limits the slot's WAL, and no safe size is reported.
      await eventually('the slot measured', async () => (await metricValue(reader!.base, 'philotes_cdc_slot_active')) === 1);
      expect(await metricValue(reader.base, 'philotes_cdc_slot_safe_wal_bytes')).toBeUndefined();
      let writer = await sourceClient(dbs);
      await writer.query("INSERT INTO items SELECT g, g, 'before' FROM generate_series(1, 300) g");
      await writer.end();
      await source.end();

      await server.stop();
      await reader.process.waitForLog('a reconnect', (line) => String(line.message).startsWith('reconnecting'));
      await server.start();
      await reader.process.waitForLog('streaming again', (line) => line.message === 'streaming' && reader!.process.logs.filter((l) => l.message === 'streaming').length > 1);

      source = await sourceClient(dbs);
      writer = await sourceClient(dbs);
      for (let i = 0; i < 30; i++) await writer.query('UPDATE items SET v = v + 1 WHERE id = $1', [i + 1]);
      await writer.query("INSERT INTO items SELECT g, g, 'after' FROM generate_series(301, 600) g");
      await writer.end();
      await expectExactlyOnce(dbs, source, oracleSlot);
    });

    it('fails, naming the cause, when the source invalidates its slot for holding too much WAL', async () => {
      await server.stop();
      server = new EmbeddedPostgres({
        dataDir: (server as unknown as { options: { dataDir: string } }).options.dataDir,
        port: server.port,
        fast: true,
        settings: { max_slot_wal_keep_size: '1MB', wal_keep_size: '0', max_wal_size: '32MB', min_wal_size: '32MB' },
      });
      await server.start();
      source = await sourceClient(dbs);
      reader = await startReader(dbs, { PHILOTES_INSTANCE_ID: 'reader-inv' });
      await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
      // Limited, the slot's remaining WAL is reported (at most the limit and the segments around it).
      const safe = await eventually('the safe WAL size in the metrics', async () => metricValue(reader!.base, 'philotes_cdc_slot_safe_wal_bytes', { slot: dbs.slot }));
      expect(safe).toBeGreaterThan(0);
      expect(safe).toBeLessThan(64 * 1024 * 1024);
      reader.process.signal('SIGTERM');
      await reader.process.exit();

      // While no reader runs, the source writes far more WAL than the slot may keep.
      const status = async () => (await query<{ wal_status: string }>(dbs.source.url, 'SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1', [dbs.slot]))[0]?.wal_status;
      await eventually('the slot to be invalidated', async () => {
        await source.query("INSERT INTO items SELECT g, g, repeat('w', 500) FROM generate_series(1, 20000) g ON CONFLICT (id) DO UPDATE SET v = items.v + 1");
        await source.query('SELECT pg_switch_wal()');
        await source.query('CHECKPOINT');
        return (await status()) === 'lost';
      }, { timeoutMs: 60_000, intervalMs: 10 });

      reader = await startReader(dbs, { PHILOTES_INSTANCE_ID: 'reader-inv' });
      const failed = await reader.process.waitForLog('the failure', (line) => line.message === 'pipeline state starting → failed');
      expect(String(failed.reason)).toContain(`replication slot "${dbs.slot}" of source "test" is unusable: the WAL it needs was removed (wal_status lost)`);
      expect(String(failed.reason)).toContain('will not recreate the slot by itself');
    });

    it('pauses above the high watermark and resumes below the low one, keeping its replication connection', async () => {
      reader = await startReader(dbs, {
        PHILOTES_INSTANCE_ID: 'reader-bp',
        PHILOTES_CDC_BATCH_SIZE: '50',
        PHILOTES_CDC_BUFFER_SIZE: '100',
        PHILOTES_BACKPRESSURE_HIGH_BYTES: '10KB',
        PHILOTES_BACKPRESSURE_LOW_BYTES: '4KB',
      });
      await reader.process.waitForLog('streaming', (line) => line.message === 'streaming');
      const walsender = async () => (await query<{ pid: number }>(dbs.source.url, 'SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1 AND active', [dbs.slot]))[0]?.pid;
      const pid = await walsender();
      expect(pid).toBeDefined();

      // No writer applies anything, so the depth only grows. Insert until the reader pauses (how
      // much it took first depends on how fast it read), then as much again: what comes after the
      // pause must stay on the source.
      let inserted = 0;
      const insertChunk = async () => {
        await source.query("INSERT INTO items SELECT g, g, 'x' FROM generate_series($1::bigint, $1::bigint + 49) g", [inserted + 1]);
        inserted += 50;
      };
      await eventually('the pause', async () => {
        if ((await instanceState(dbs.buffer.url, 'reader-bp'))?.state === 'paused') return true;
        await insertChunk();
        return false;
      }, { intervalMs: 20 });
      const paused = await instanceState(dbs.buffer.url, 'reader-bp');
      expect(paused.reason).toMatch(/^backpressure: [\d.]+KB unapplied, above the high watermark 10KB \(PHILOTES_BACKPRESSURE_HIGH_BYTES\)$/);
      const beforePause = inserted;
      const AFTER_PAUSE = 5_000;
      while (inserted < beforePause + AFTER_PAUSE) await insertChunk();
      const ROWS = inserted;
      const stored = async () => Number((await query<{ n: string }>(dbs.buffer.url, 'SELECT count(*)::text AS n FROM cdc_events WHERE seq >= 0'))[0].n); // streamed events: a copy's are negative

      // It stops consuming: what was already received is stored, then the count stands still —
      // below what the source wrote before the pause plus the reader's queue and one batch.
      let previous = -1;
      const stalledAt = await eventually('the buffer to stop growing', async () => {
        const now = await stored();
        const still = now === previous;
        previous = now;
        return still ? now : undefined;
      }, { intervalMs: 500 });
      expect(stalledAt).toBeLessThan(beforePause + AFTER_PAUSE);

      // Paused for longer than wal_sender_timeout (2 s): the same walsender is still serving us.
      const pausedSince = Date.now();
      await eventually('5 s of pause', () => Date.now() - pausedSince > 5_000, { timeoutMs: 10_000 });
      expect(await walsender()).toBe(pid);
      expect((await instanceState(dbs.buffer.url, 'reader-bp')).state).toBe('paused');
      expect(await stored()).toBe(stalledAt);

      // A writer catches up (simulated: its progress follows the newest event): the depth falls
      // below the low watermark and the reader resumes, until everything is in.
      const catchUp = setInterval(() => {
        query(
          dbs.buffer.url,
          `INSERT INTO cdc_writer_progress (table_id, applied_lsn, applied_seq, applied_bytes)
           SELECT e.table_id, max(e.commit_lsn), max(e.seq), (SELECT v.stored_bytes FROM cdc_table_volume v WHERE v.table_id = e.table_id) FROM cdc_events e GROUP BY e.table_id
           ON CONFLICT (table_id) DO UPDATE SET applied_lsn = EXCLUDED.applied_lsn, applied_seq = EXCLUDED.applied_seq, applied_bytes = EXCLUDED.applied_bytes`,
        ).catch(() => undefined);
      }, 100);
      try {
        await eventually('the resume', async () => (await instanceState(dbs.buffer.url, 'reader-bp'))?.state === 'running');
        await waitCaughtUp(dbs);
      } finally {
        clearInterval(catchUp);
      }
      expect(await stored()).toBe(ROWS);
      expect(await walsender()).toBe(pid);
      const transitions = await query<{ to_state: string; reason: string }>(dbs.buffer.url, "SELECT to_state, reason FROM pipeline_transitions WHERE instance_id = 'reader-bp' ORDER BY id");
      expect(transitions.slice(0, 3).map((t) => t.to_state)).toEqual(['running', 'paused', 'running']);
      expect(transitions[2].reason).toBe('backpressure released');
    });
  });
});
