import { Client, ClientConfig, Pool } from 'pg';
import { confirmedLsnOf, eventsBetween, eventsUpTo, unappliedBefore } from '@philotes/buffer';
import { parseLsn } from '@philotes/pgoutput';
import { LoadedTable, Snapshot } from '@philotes/iceberg';

/** A source snapshot, open in a REPEATABLE READ transaction, bracketed by two WAL positions. */
export interface SourcePoint {
  readonly client: Client;
  /** Every transaction committed before this is visible in the snapshot. */
  readonly before: bigint;
  /** No transaction committed after this is. */
  readonly after: bigint;
}

/**
 * Opens a snapshot of the source. Transactions whose commit falls between `before` and `after`
 * may or may not be in it; a table with none of its changes there has an exact position.
 */
export async function openSourcePoint(source: ClientConfig): Promise<SourcePoint> {
  const client = new Client({ ...source, application_name: 'philotes-verify' });
  await client.connect();
  try {
    const before = parseLsn((await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // The first statement takes the snapshot; the position it reads comes after it.
    const after = parseLsn((await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn);
    return { client, before, after };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

export async function closeSourcePoint(point: SourcePoint): Promise<void> {
  await point.client.query('ROLLBACK').catch(() => undefined);
  await point.client.end().catch(() => undefined);
}

/** Why the table could not be compared at this source point (yet). */
export type NotReady = 'reader-behind' | 'writer-behind' | 'ambiguous' | 'no-matching-snapshot';

/** The table's position in the buffer at which its Iceberg snapshot equals the source snapshot. */
export interface ComparablePoint {
  readonly snapshot: Snapshot;
  readonly sourceLsn: string;
}

/**
 * Whether the table can be compared at this source point, and against which Iceberg snapshot: one
 * whose applied position holds exactly the table's changes committed before the point — none of
 * the table's changes lie between that position and the point, nor in the point's own window.
 */
export async function comparablePoint(buffer: Pool, sourceId: string, tableId: number, point: SourcePoint, table: LoadedTable | undefined): Promise<ComparablePoint | NotReady | 'empty'> {
  const checkpoint = await confirmedLsnOf(buffer, sourceId);
  if (checkpoint === undefined || checkpoint < point.after) return 'reader-behind';
  if ((await unappliedBefore(buffer, tableId, point.after)) > 0) return 'writer-behind';
  if ((await eventsBetween(buffer, tableId, { lsn: point.before, seq: Number.MIN_SAFE_INTEGER, inclusive: true }, point.after)) > 0) return 'ambiguous';
  if (!table) return 'empty';
  // Newest first: normally the current snapshot is the one.
  const snapshots = [...table.metadata.snapshots].sort((a, b) => b['sequence-number'] - a['sequence-number']);
  for (const snapshot of snapshots) {
    const lsnText = snapshot.summary['philotes.source-lsn'];
    if (!lsnText) continue;
    const lsn = parseLsn(lsnText);
    const seq = Number(snapshot.summary['philotes.source-seq'] ?? Number.MIN_SAFE_INTEGER);
    const clean =
      lsn < point.before
        ? (await eventsBetween(buffer, tableId, { lsn, seq, inclusive: false }, point.before)) === 0
        : (await eventsUpTo(buffer, tableId, point.before, lsn, seq)) === 0;
    if (clean) return { snapshot, sourceLsn: lsnText };
  }
  return 'no-matching-snapshot';
}
