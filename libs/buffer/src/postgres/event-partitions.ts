import { ClientBase } from 'pg';

/**
 * `cdc_events` is partitioned by commit time (migration 0001): retention drops a whole partition
 * once every event in it is applied, instead of deleting rows one by one (dead tuples, vacuum,
 * index bloat at thousands of rows a second). Partitions are made ahead of time, so the events of
 * now and of the next few intervals never land in the default partition; the default catches only
 * what no range covers (a source clock far off, the hours before the first partition existed) and
 * is cleaned row by row.
 */
export interface EventPartition {
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

/** How many intervals ahead partitions exist: one upkeep may be late by all but one of them. */
export const PARTITIONS_AHEAD = 3;

/** Partition names carry their start, in UTC: cdc_events_p20261201t153000. */
export function partitionName(from: Date): string {
  return `cdc_events_p${from.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase()}`;
}

/**
 * The ranges that should exist at `now`: those starting after it, up to PARTITIONS_AHEAD
 * intervals ahead, aligned to the interval since the Unix epoch. Never one already under way:
 * its rows (in the default partition) would refuse the new range.
 */
export function wantedPartitions(now: Date, intervalMs: number): EventPartition[] {
  const first = Math.floor(now.getTime() / intervalMs) * intervalMs + intervalMs;
  return Array.from({ length: PARTITIONS_AHEAD }, (_, i) => {
    const from = new Date(first + i * intervalMs);
    return { name: partitionName(from), from, to: new Date(first + (i + 1) * intervalMs) };
  });
}

/** The range partitions of cdc_events (not the default), oldest first. */
export async function eventPartitions(db: Pick<ClientBase, 'query'>): Promise<EventPartition[]> {
  const { rows } = await db.query<{ name: string; from_ts: Date; to_ts: Date }>(
    `SELECT c.relname AS name,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AS from_ts,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS to_ts
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'cdc_events'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
      ORDER BY 2`,
  );
  return rows.map((row) => ({ name: row.name, from: row.from_ts, to: row.to_ts }));
}

/**
 * Makes the wanted partition: an empty table attached to cdc_events. ATTACH takes only a SHARE
 * UPDATE EXCLUSIVE lock on cdc_events (CREATE ... PARTITION OF would take an exclusive one and stop
 * the reader's writes meanwhile), but it must know the default partition holds no row of the range:
 * proved first by a CHECK constraint validated beside the pipeline's statements (VALIDATE scans
 * under a lock that lets inserts through), so ATTACH itself locks the default only for a moment
 * and never scans it — which, on a buffer upgraded with all its events in the default, would stop
 * the reader for the whole scan. A range the default does hold fails validation and is not made.
 * Short lock timeouts: the upkeep tries again later rather than queue the pipeline behind it.
 */
export async function createPartition(db: Pick<ClientBase, 'query'>, partition: EventPartition, done: Date = partition.from): Promise<void> {
  // While the guard stands it refuses the default partition any row of the range: it must be gone
  // before the range begins (`done`, at the latest), or the reader's inserts there would fail.
  const left = () => done.getTime() - Date.now();
  if (left() <= 0) throw new Error(`too late to make partition ${partition.name}: its range begins before it could be attached`);
  const name = quoteIdent(partition.name);
  const guard = quoteIdent(`${partition.name}${GUARD_SUFFIX}`);
  const from = `'${partition.from.toISOString()}'`;
  const to = `'${partition.to.toISOString()}'`;
  const step = (statements: readonly string[]) =>
    bounded(db, "lock_timeout = '500ms'", async () => {
      for (const statement of statements) await db.query(statement);
    });
  await step([
    `CREATE TABLE IF NOT EXISTS ${name} (LIKE cdc_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
    `ALTER TABLE cdc_events_default DROP CONSTRAINT IF EXISTS ${guard}`,
    `ALTER TABLE cdc_events_default ADD CONSTRAINT ${guard} CHECK (commit_ts < ${from} OR commit_ts >= ${to}) NOT VALID`,
  ]);
  try {
    // The scan may be long (a buffer upgraded with all its events in the default): bounded so the
    // guard is dropped in time.
    await bounded(db, `statement_timeout = ${Math.max(1, Math.floor(left()))}`, () => db.query(`ALTER TABLE cdc_events_default VALIDATE CONSTRAINT ${guard}`));
    await step([`ALTER TABLE cdc_events ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`, `ALTER TABLE cdc_events_default DROP CONSTRAINT ${guard}`]);
  } catch (error) {
    // Left behind, the guard would refuse events of its range: cleanupGuards drops it next run.
    await step([`ALTER TABLE cdc_events_default DROP CONSTRAINT IF EXISTS ${guard}`, `DROP TABLE IF EXISTS ${name}`]).catch(() => undefined);
    throw error;
  }
}

const GUARD_SUFFIX = '_not_in_default';

/**
 * Drops every guard left on the default partition (a run interrupted between its steps, a drop
 * that timed out): one upkeep runs at a time, so any guard found at its start is a leftover.
 * Returns how many remain (they could not be dropped now).
 */
export async function cleanupGuards(db: Pick<ClientBase, 'query'>): Promise<number> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT conname AS name FROM pg_constraint WHERE conrelid = 'cdc_events_default'::regclass AND contype = 'c' AND conname LIKE '%' || $1`,
    [GUARD_SUFFIX],
  );
  let left = 0;
  for (const { name } of rows) {
    await bounded(db, "lock_timeout = '2s'", () => db.query(`ALTER TABLE cdc_events_default DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`)).catch(() => left++);
  }
  return left;
}

/**
 * Drops the partition when every event in it is applied (at or before its table's writer position).
 * Checked first without locks (a partition a paused table still needs is left at once), then again
 * under exclusive locks on cdc_events and the partition, taken together, the parent first — the
 * order every query of cdc_events takes them, so none deadlocks with the drop — and with a short
 * timeout, since while they are asked for the pipeline's statements wait. Under them no copy plan
 * moves a writer back over the partition's events (a plan deletes from cdc_events: it waits, or
 * went first and the check sees it). True when dropped. Each table's check is one probe of the
 * partition's primary key.
 */
export async function dropPartitionIfApplied(db: Pick<ClientBase, 'query'>, partition: EventPartition): Promise<boolean> {
  const name = quoteIdent(partition.name);
  const unapplied = async () =>
    (
      await db.query<{ unapplied: boolean }>(
        `SELECT EXISTS (
           SELECT 1 FROM cdc_tables t LEFT JOIN cdc_writer_progress p USING (table_id)
            WHERE EXISTS (SELECT 1 FROM ${name} e
                           WHERE e.table_id = t.table_id
                             AND (p.table_id IS NULL OR (e.commit_lsn, e.seq) > (p.applied_lsn, p.applied_seq)))) AS unapplied`,
      )
    ).rows[0].unapplied;
  if (await unapplied()) return false;
  return bounded(db, "lock_timeout = '500ms'", async () => {
    await db.query(`LOCK TABLE cdc_events, ${name} IN ACCESS EXCLUSIVE MODE`);
    if (await unapplied()) return false;
    await db.query(`ALTER TABLE cdc_events DETACH PARTITION ${name}`);
    await db.query(`DROP TABLE ${name}`);
    return true;
  });
}

/**
 * `work` in a transaction with one setting bounding it (`SET LOCAL`: a lock or statement
 * timeout), so partition upkeep never holds the pipeline's statements behind it for long.
 */
async function bounded<T>(db: Pick<ClientBase, 'query'>, setting: string, work: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    await db.query(`SET LOCAL ${setting}`);
    const result = await work();
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Partition names are ours (partitionName), but quoted all the same. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
