import { Client } from 'pg';
import { encodePayload, createEncoder } from '@philotes/events';
import { AdvisoryLeaderLock, backendPid, COPY_MARKER_SEQ, CopyFencedError, copyRowSeq, LeadershipLostError, locateMigrations, PostgresBackfillStore, PostgresEventStore, PostgresSchemaStore } from '@philotes/buffer';
import { migrate, readMigrations } from '@philotes/db';
import { createTestDatabase, query, TestDatabase } from '../support/database';

const silent = { info: () => undefined, warn: () => undefined };
const snapshot = { lsn: 0x5000n, xmin: 100n, xmax: 110n, xip: [105n] };
const marker = { schemaVersion: 1, commitTime: 1n, payload: encodePayload(createEncoder(), { truncate: { cascade: false, restartIdentity: false } }, []) };

/** Real buffer database: a copy's writes are fenced by its plan's generation and by the leader lock. */
describe('copy fencing', () => {
  let database: TestDatabase;
  let leader: Client;
  let copier: Client;
  let tableId: number;

  beforeEach(async () => {
    database = await createTestDatabase('philotes_fence');
    leader = new Client({ connectionString: database.url });
    copier = new Client({ connectionString: database.url });
    await Promise.all([leader.connect(), copier.connect()]);
    await migrate(copier, readMigrations(locateMigrations()), silent);
    await query(database.url, "INSERT INTO cdc_checkpoints (source_id, slot_name, confirmed_lsn) VALUES ('src', 'slot', '0/1000')");
    tableId = await new PostgresSchemaStore(copier).tableId('src', 'public', 't');
    expect(await new AdvisoryLeaderLock(leader).tryAcquire('src')).toBe(true);
  });

  afterEach(async () => {
    await leader.end().catch(() => undefined);
    await copier.end().catch(() => undefined);
    await database.drop();
  });

  const row = (n: number) => ({ tableId, commitLsn: 0x5000n, seq: copyRowSeq(n), op: 'R' as const, xid: null, commitTime: 1n, schemaVersion: 1, payload: Buffer.from([0x80]) });

  it('keeps changes the snapshot does not show, after the copy, and drops those it shows', async () => {
    const fence = { sourceId: 'src', leaderPid: await backendPid(leader) };
    const stream = new PostgresEventStore(leader);
    // Shown (xid 101, before the snapshot's position), running at the snapshot (105, kept), begun after (120, kept).
    const events = [
      { tableId, commitLsn: 0x4000n, seq: 0, op: 'I' as const, xid: 101, commitTime: 1n, schemaVersion: 1, payload: Buffer.from([0x80]) },
      { tableId, commitLsn: 0x4100n, seq: 0, op: 'I' as const, xid: 105, commitTime: 2n, schemaVersion: 1, payload: Buffer.from([0x80]) },
      { tableId, commitLsn: 0x6000n, seq: 0, op: 'I' as const, xid: 120, commitTime: 3n, schemaVersion: 1, payload: Buffer.from([0x80]) },
    ];
    await stream.commit('src', events, { confirmedLsn: 0x7000n });
    const start = await new PostgresBackfillStore(copier, fence).begin(tableId, { snapshot, fenceLsn: 0x6500n, relationOid: 1, reason: 'joined', marker });
    // Before the earliest change kept: the one still running at the snapshot, committed at 0x4100.
    expect(start).toEqual({ copyLsn: 0x4100n, generation: 1 });
    const left = await query<{ lsn: string; seq: string; xid: string | null }>(database.url, 'SELECT commit_lsn::text AS lsn, seq::text, xid::text FROM cdc_events ORDER BY commit_lsn, seq');
    expect(left).toEqual([
      { lsn: '0/4100', seq: String(COPY_MARKER_SEQ), xid: null },
      { lsn: '0/4100', seq: '0', xid: '105' },
      { lsn: '0/6000', seq: '0', xid: '120' },
    ]);
    const [progress] = await query<{ lsn: string }>(database.url, 'SELECT applied_lsn::text AS lsn FROM cdc_writer_progress');
    expect(progress.lsn).toBe('0/4100');
  });

  it("refuses a replaced plan's rows and finish, and every write once its reader no longer leads", async () => {
    const fence = { sourceId: 'src', leaderPid: await backendPid(leader) };
    const backfill = new PostgresBackfillStore(copier, fence);
    const events = new PostgresEventStore(copier, { leader: fence });
    const first = await backfill.begin(tableId, { snapshot, fenceLsn: 0x5000n, relationOid: 1, reason: 'joined', marker });
    await events.commitCopy('src', tableId, first.generation, [row(1)], 1);
    const second = await backfill.begin(tableId, { snapshot, fenceLsn: 0x5000n, relationOid: 1, reason: 'joined', marker });
    expect(second.generation).toBe(first.generation + 1);
    await expect(events.commitCopy('src', tableId, first.generation, [row(2)], 2)).rejects.toBeInstanceOf(CopyFencedError);
    await expect(backfill.finish('src', tableId, first.generation, 2)).rejects.toBeInstanceOf(CopyFencedError);
    await events.commitCopy('src', tableId, second.generation, [row(1)], 1);

    // The leader connection goes (its lock with it): the copy's connection writes nothing more.
    await leader.end();
    await expect(events.commitCopy('src', tableId, second.generation, [row(2)], 2)).rejects.toBeInstanceOf(LeadershipLostError);
    await expect(backfill.finish('src', tableId, second.generation, 2)).rejects.toBeInstanceOf(LeadershipLostError);
    await expect(backfill.begin(tableId, { snapshot, fenceLsn: 0x5000n, relationOid: 1, reason: 'joined', marker })).rejects.toBeInstanceOf(LeadershipLostError);
    const [state] = await query<{ status: string; rows_copied: string }>(database.url, 'SELECT status, rows_copied::text FROM cdc_backfill');
    expect(state).toEqual({ status: 'copying', rows_copied: '1' });
    expect((await query(database.url, "SELECT 1 FROM cdc_events WHERE op = 'R'")).length).toBe(1);
  });
});
