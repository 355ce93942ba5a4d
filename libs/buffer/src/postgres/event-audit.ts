import { ClientBase, Pool } from 'pg';
import { formatLsn } from '@philotes/pgoutput';
import { DEAD_LETTER_MOVES } from '../dead-letter-model';

/**
 * Reads of `cdc_events` for verification: counts and positions a checker compares with the Iceberg
 * table and the source, never the payloads. Each is one statement in the caller's snapshot.
 */
type Db = Pick<ClientBase, 'query'> | Pool;

/** The table's events with positions in a range (by commit LSN, and seq at the start). */
export async function eventsBetween(db: Db, tableId: number, from: { readonly lsn: bigint; readonly seq: number; readonly inclusive: boolean }, toLsnExclusive: bigint): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM cdc_events
      WHERE table_id = $1 AND (commit_lsn, seq) ${from.inclusive ? '>=' : '>'} ($2::pg_lsn, $3) AND commit_lsn < $4::pg_lsn`,
    [tableId, formatLsn(from.lsn), from.seq, formatLsn(toLsnExclusive)],
  );
  return rows[0].n;
}

/** The table's events after `from` (inclusive of its LSN) up to (lsn, seq) inclusive. */
export async function eventsUpTo(db: Db, tableId: number, from: bigint, lsn: bigint, seq: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM cdc_events WHERE table_id = $1 AND commit_lsn >= $2::pg_lsn AND (commit_lsn, seq) <= ($3::pg_lsn, $4)',
    [tableId, formatLsn(from), formatLsn(lsn), seq],
  );
  return rows[0].n;
}

/** The table's events committed before `lsn` that its writer has not applied, dead letters aside. */
export async function unappliedBefore(db: Db, tableId: number, lsn: bigint): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM cdc_events e LEFT JOIN cdc_writer_progress p ON p.table_id = e.table_id
      WHERE e.table_id = $1 AND e.commit_lsn < $2::pg_lsn
        AND (p.table_id IS NULL OR (e.commit_lsn, e.seq) > (p.applied_lsn, p.applied_seq))
        AND NOT EXISTS (SELECT 1 FROM cdc_dead_letters d WHERE d.table_id = e.table_id AND d.commit_lsn = e.commit_lsn AND d.seq = e.seq AND d.commit_ts = e.commit_ts)`,
    [tableId, formatLsn(lsn)],
  );
  return rows[0].n;
}

/**
 * The positions of the table's events up to `lsn` that the Iceberg table must hold: every one,
 * except those in the dead letters and not replayed. Positions as (LSN as a number, seq).
 */
export async function expectedEventPositions(db: Db, tableId: number, lsn: string): Promise<Array<{ readonly lsn: string; readonly seq: string }>> {
  const { rows } = await db.query<{ lsn: string; seq: string }>(
    `SELECT (e.commit_lsn - '0/0'::pg_lsn)::text AS lsn, e.seq::text AS seq FROM cdc_events e
      WHERE e.table_id = $1 AND e.commit_lsn <= $2::pg_lsn
        AND NOT EXISTS (SELECT 1 FROM cdc_dead_letters d WHERE d.table_id = e.table_id AND d.commit_lsn = e.commit_lsn AND d.seq = e.seq AND d.commit_ts = e.commit_ts AND d.status <> $3)`,
    [tableId, lsn, DEAD_LETTER_MOVES.replayed.to],
  );
  return rows;
}

/** The commit LSN (as a number) of the table's oldest retained event; undefined when none is. */
export async function oldestRetainedLsn(db: Db, tableId: number): Promise<bigint | undefined> {
  const { rows } = await db.query<{ lsn: string | null }>("SELECT (min(commit_lsn) - '0/0'::pg_lsn)::text AS lsn FROM cdc_events WHERE table_id = $1", [tableId]);
  return rows[0].lsn === null ? undefined : BigInt(rows[0].lsn);
}
