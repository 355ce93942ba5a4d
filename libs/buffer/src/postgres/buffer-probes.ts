import { ClientBase, Pool } from 'pg';
import { formatLsn } from '@philotes/pgoutput';

/**
 * What the benchmarks and the chaos run observe of the buffer (and the few states they set up),
 * so their SQL lives with the schema it reads. The apps never use these. Positions as text where
 * a report prints them.
 */
type Db = Pick<ClientBase, 'query'> | Pool;

/** Whether every source's checkpoint is at or past `lsn` (false before the first checkpoint). */
export async function checkpointsReached(db: Db, lsn: bigint): Promise<boolean> {
  const { rows } = await db.query<{ done: boolean }>('SELECT bool_and(confirmed_lsn >= $1::pg_lsn) AS done FROM cdc_checkpoints', [formatLsn(lsn)]);
  return rows[0]?.done === true;
}

/** The checkpoint of the source when it holds only whole transactions (none stored in part). */
export async function wholeCheckpointOf(db: Db, sourceId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ lsn: string }>('SELECT confirmed_lsn::text AS lsn FROM cdc_checkpoints WHERE source_id = $1 AND partial_commit_lsn IS NULL', [sourceId]);
  return rows[0]?.lsn;
}

/** The furthest position any table's writer applied ('0/0' before the first). */
export async function furthestApplied(db: Db): Promise<string> {
  const { rows } = await db.query<{ lsn: string | null }>('SELECT max(applied_lsn)::text AS lsn FROM cdc_writer_progress');
  return rows[0].lsn ?? '0/0';
}

/** Events no writer applied yet, over every table. */
export async function unappliedEvents(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM cdc_events e LEFT JOIN cdc_writer_progress p USING (table_id)
      WHERE p.table_id IS NULL OR (e.commit_lsn, e.seq) > (p.applied_lsn, p.applied_seq)`,
  );
  return Number(rows[0].n);
}

/** Events and dead letters stored, over every table. */
export async function storedCounts(db: Db): Promise<{ readonly events: number; readonly deadLetters: number }> {
  const { rows } = await db.query<{ events: string; letters: string }>('SELECT (SELECT count(*) FROM cdc_events)::text AS events, (SELECT count(*) FROM cdc_dead_letters)::text AS letters');
  return { events: Number(rows[0].events), deadLetters: Number(rows[0].letters) };
}

/** Events committed in [from, to). */
export async function eventsInRange(db: Db, from: bigint, to: bigint): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM cdc_events WHERE commit_lsn >= $1::pg_lsn AND commit_lsn < $2::pg_lsn', [formatLsn(from), formatLsn(to)]);
  return Number(rows[0].n);
}

/** What the events' partitions and their indexes take on disk. */
export async function eventStorageBytes(db: Db): Promise<number> {
  const { rows } = await db.query<{ bytes: string }>(
    `SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::text AS bytes FROM pg_inherits i WHERE i.inhparent = 'cdc_events'::regclass`,
  );
  return Number(rows[0].bytes);
}

/** A table's last event and how many it has, found by the table's name (benchmarks use one source). */
export async function lastEventOf(db: Db, tableName: string): Promise<{ readonly lsn: string; readonly seq: string; readonly events: number } | undefined> {
  const { rows } = await db.query<{ lsn: string; seq: string; events: string }>(
    `SELECT e.commit_lsn::text AS lsn, e.seq::text AS seq, (SELECT count(*) FROM cdc_events WHERE table_id = t.table_id)::text AS events
       FROM cdc_events e JOIN cdc_tables t USING (table_id) WHERE t.table_name = $1 ORDER BY e.commit_lsn DESC, e.seq DESC LIMIT 1`,
    [tableName],
  );
  return rows[0] && { lsn: rows[0].lsn, seq: rows[0].seq, events: Number(rows[0].events) };
}

/** Whether the named table's writer applied everything up to (lsn, seq). */
export async function writerReached(db: Db, tableName: string, lsn: string, seq: string): Promise<boolean> {
  const { rows } = await db.query<{ done: boolean }>(
    'SELECT (applied_lsn, applied_seq) >= ($1::pg_lsn, $2::bigint) AS done FROM cdc_writer_progress p JOIN cdc_tables t USING (table_id) WHERE t.table_name = $3',
    [lsn, seq, tableName],
  );
  return rows[0]?.done === true;
}

/** Per named table, each transaction committed in [from, to): its last event, its rows, and its commit time. */
export async function tableTransactions(db: Db, tableNames: readonly string[], from: bigint, to: bigint): Promise<Array<{ readonly table: string; readonly commitLsn: string; readonly lastSeq: string; readonly rows: number; readonly commitMs: number }>> {
  const { rows } = await db.query<{ table_name: string; commit_lsn: string; last_seq: string; rows: string; commit_ms: string }>(
    `SELECT t.table_name, e.commit_lsn::text, max(e.seq)::text AS last_seq, count(*)::text AS rows,
            (extract(epoch FROM min(e.commit_ts)) * 1000)::text AS commit_ms
       FROM cdc_events e JOIN cdc_tables t USING (table_id)
      WHERE t.table_name = ANY($1) AND e.commit_lsn >= $2::pg_lsn AND e.commit_lsn < $3::pg_lsn
      GROUP BY t.table_name, e.commit_lsn`,
    [tableNames, formatLsn(from), formatLsn(to)],
  );
  return rows.map((row) => ({ table: row.table_name, commitLsn: row.commit_lsn, lastSeq: row.last_seq, rows: Number(row.rows), commitMs: Number(row.commit_ms) }));
}

/** Per named table, its last event committed before `lsn`. */
export async function lastEventsBefore(db: Db, lsn: bigint, tableNames: readonly string[]): Promise<Array<{ readonly table: string; readonly commitLsn: string; readonly seq: string }>> {
  const { rows } = await db.query<{ table_name: string; commit_lsn: string; seq: string }>(
    `SELECT t.table_name, e.commit_lsn::text, e.seq::text FROM cdc_tables t
       CROSS JOIN LATERAL (SELECT commit_lsn, seq FROM cdc_events WHERE table_id = t.table_id AND commit_lsn < $1::pg_lsn ORDER BY commit_lsn DESC, seq DESC LIMIT 1) e
      WHERE t.table_name = ANY($2)`,
    [formatLsn(lsn), tableNames],
  );
  return rows.map((row) => ({ table: row.table_name, commitLsn: row.commit_lsn, seq: row.seq }));
}

/** The reasons of the app's processes in a state that reported within the last `withinMs`. */
export async function instanceReasons(db: Db, app: string, state: string, withinMs: number): Promise<Array<string | null>> {
  const { rows } = await db.query<{ reason: string | null }>(
    "SELECT reason FROM pipeline_instances WHERE app = $1 AND state = $2 AND heartbeat_at > now() - $3::bigint * interval '1 millisecond'",
    [app, state, withinMs],
  );
  return rows.map((row) => row.reason);
}

/**
 * A benchmark's writer start: every table's writer forgets its position (its Iceberg table must be
 * dropped with it) and every table but the named one is paused, so one table is written alone.
 */
export async function writeOneTableAfresh(db: Db, tableName: string): Promise<void> {
  await db.query('DELETE FROM cdc_writer_progress; DELETE FROM pipeline_controls');
  await db.query('INSERT INTO pipeline_controls (source_id, table_id, paused) SELECT source_id, table_id, true FROM cdc_tables WHERE table_name <> $1', [tableName]);
}

/** Where the buffer stores events no dated partition covers (today's, until one is made): a chaos run fills that disk. */
export async function moveDefaultEventPartition(db: Db, tablespace: string): Promise<void> {
  await db.query(`ALTER TABLE cdc_events_default SET TABLESPACE "${tablespace.replace(/"/g, '""')}"`);
}

/** Removes every buffered event at once: the physical limit a retention pass is compared with. */
export async function truncateEvents(db: Db): Promise<void> {
  await db.query('TRUNCATE cdc_events');
}

/** The checkpoint of a buffer that serves one source (a benchmark's), or undefined before its first. */
export async function soleCheckpoint(db: Db): Promise<string | undefined> {
  const { rows } = await db.query<{ lsn: string }>('SELECT confirmed_lsn::text AS lsn FROM cdc_checkpoints ORDER BY source_id LIMIT 1');
  return rows[0]?.lsn;
}
