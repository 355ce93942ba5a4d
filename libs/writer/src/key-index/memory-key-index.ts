import { CommitUnit } from '@philotes/iceberg';
import { assertMovesOnce, filePlacements, KeyIndex, KeyIndexChange, KeyLocation, keyName, keyNames, relocationKeys } from './key-index';

/**
 * The key index in memory, for unit tests: the Postgres index's contract. A change given a unit
 * that can enlist is applied when the unit commits and dropped when it rolls back.
 */
export class MemoryKeyIndex implements KeyIndex {
  private readonly tables = new Map<number, Map<string, KeyLocation>>();
  private readonly snapshots = new Map<number, string>();

  async lookup(tableId: number, keys: readonly Uint8Array[]): Promise<Map<string, KeyLocation>> {
    const index = this.tables.get(tableId);
    const found = new Map<string, KeyLocation>();
    for (const key of keys) {
      const location = index?.get(keyName(key));
      if (location) found.set(keyName(key), location);
    }
    return found;
  }

  async apply(tableId: number, change: KeyIndexChange, unit: CommitUnit): Promise<void> {
    assertMovesOnce(change);
    if (!unit.enlist) throw new Error('the memory key index cannot join a database transaction (its unit must enlist the change)');
    unit.enlist({ commit: () => this.applyNow(tableId, change), rollback: () => undefined });
  }

  async size(tableId: number): Promise<number> {
    return this.tables.get(tableId)?.size ?? 0;
  }

  async snapshot(tableId: number): Promise<string | undefined> {
    return this.snapshots.get(tableId);
  }

  /** Forgets a table's index, as an operator emptying the tables by hand would. */
  lose(tableId: number): void {
    this.tables.delete(tableId);
    this.snapshots.delete(tableId);
  }

  private applyNow(tableId: number, change: KeyIndexChange): void {
    if (change.snapshotId !== undefined) this.snapshots.set(tableId, change.snapshotId);
    let index = this.tables.get(tableId);
    if (!index || change.cleared) this.tables.set(tableId, (index = new Map()));
    for (const key of change.removed ?? []) index.delete(keyName(key));
    for (const { key, path, position } of change.placed ?? []) index.set(keyName(key), { path, position });
    for (const file of change.placedFiles ?? []) for (const { key, path, position } of filePlacements(file)) index.set(keyName(key), { path, position });
    for (const { key, from, to } of change.moved ?? []) {
      const now = index.get(keyName(key));
      if (now && now.path === from.path && now.position === from.position) index.set(keyName(key), to);
    }
    for (const run of change.relocated ?? []) {
      const names = keyNames(relocationKeys(run));
      run.fromPositions.forEach((position, i) => {
        const name = names[i];
        const now = index.get(name);
        if (now && now.path === run.from && now.position === position) index.set(name, { path: run.to, position: run.toPositions[i] });
      });
    }
  }
}
