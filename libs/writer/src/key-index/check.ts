import { Pool } from 'pg';
import { currentSchema, IcebergTables, TableIdentifier } from '@philotes/iceberg';
import { keyFieldsOf } from './keyed-deletes';
import { PostgresKeyIndex } from './postgres-key-index';
import { compareKeyIndex, KeyIndexDifference, liveKeyPlacements } from './rebuild';

/** What checking a table's key index against its files found. */
export type KeyIndexCheck = (KeyIndexDifference & { readonly snapshotId: string; readonly ok: boolean }) | { readonly problem: string; readonly ok: false };

/**
 * Compares a table's key index with the keys its files hold at the snapshot the index describes,
 * read in one repeatable-read transaction of the buffer database: the writer may commit
 * meanwhile, and the index, its snapshot and the snapshot's files then still belong together
 * (a snapshot, once written, never changes).
 */
export async function checkKeyIndex(pool: Pool, tables: IcebergTables, tableId: number, id: TableIdentifier): Promise<KeyIndexCheck> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const index = new PostgresKeyIndex(client);
    const snapshotId = await index.snapshot(tableId);
    if (snapshotId === undefined) return { problem: 'the table has no key index (the writer builds it when it next takes the table)', ok: false };
    // Loaded after the index was read: its metadata holds that snapshot (or a later one beside it).
    const table = await tables.load(id);
    if (!table) return { problem: 'the Iceberg table is gone', ok: false };
    const keyFields = keyFieldsOf(currentSchema(table.metadata));
    const snapshot = table.metadata.snapshots.find((s) => String(s['snapshot-id']) === snapshotId);
    if (!snapshot && snapshotId !== '-1') return { problem: `the key index describes snapshot ${snapshotId}, which the table no longer has (the writer rebuilds it when it next takes the table)`, ok: false };
    const placements = snapshot ? liveKeyPlacements(tables, table.metadata, snapshot['snapshot-id'], keyFields) : (async function* () {})();
    const difference = await compareKeyIndex(index, tableId, placements);
    return { ...difference, snapshotId, ok: difference.missing + difference.misplaced + difference.extra === 0 };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
