import { CommitUnit } from '@philotes/iceberg';
import { KeyIndex, KeyIndexChange, KeyLocation, keyName, keyNames, relocationKeys } from './key-index';

/**
 * A bounded cache in front of a key index (a wrapper of the port): the places of the keys this
 * process placed or looked up last, so an update of a recent row (most of them) is resolved in
 * memory instead of by a probe of the stored index (measured: about 9 µs a key in PostgreSQL).
 *
 * The cache holds, for one snapshot of the table, keys whose place in that snapshot it knows. It
 * learns a commit's change only once the stored index says the change stands (its `snapshot()`
 * is the change's snapshot): a commit whose transaction rolled back is never learnt; a
 * compaction's relocations are learnt too (they go by key). A change it cannot follow (a clear, a
 * rebuild) or a stored index describing another snapshot than the cache (another process
 * committed) empties it: an empty cache defers to the stored index, which is always right.
 */
export class CachedKeyIndex implements KeyIndex {
  private readonly tables = new Map<number, TableCache>();

  constructor(
    private readonly inner: KeyIndex,
    /** Keys kept at most, over every table: the largest table's oldest go first. */
    private readonly maxKeys: number,
  ) {}

  /** Keys held over every table. */
  get held(): number {
    let n = 0;
    for (const cache of this.tables.values()) n += cache.size;
    return n;
  }

  /** Makes room when the caches hold more than the bound, from the largest. */
  private readonly makeRoom = (): void => {
    for (let over = this.held - this.maxKeys; over > 0; over = this.held - this.maxKeys) {
      const largest = [...this.tables.values()].reduce((a, b) => (b.size > a.size ? b : a));
      largest.evict(over);
    }
  };

  async lookup(tableId: number, keys: readonly Uint8Array[]): Promise<Map<string, KeyLocation>> {
    const cache = await this.synced(tableId);
    const found = new Map<string, KeyLocation>();
    const misses: Uint8Array[] = [];
    for (const key of keys) {
      const name = keyName(key);
      const at = cache.get(name);
      if (at === undefined) misses.push(key);
      else if (at !== ABSENT) found.set(name, at);
    }
    if (misses.length > 0) {
      const generation = cache.generation;
      const stored = await this.inner.lookup(tableId, misses);
      // Answers of the snapshot the cache describes only if it has not moved on meanwhile.
      const keep = cache.generation === generation;
      for (const key of misses) {
        // A key the stored index does not hold is in no data file of this snapshot: known absent too.
        const name = keyName(key);
        const at = stored.get(name);
        if (at) found.set(name, at);
        if (keep) cache.set(name, at ?? ABSENT);
      }
    }
    return found;
  }

  async apply(tableId: number, change: KeyIndexChange, unit: CommitUnit): Promise<void> {
    // What stood before this change is learnt first, so it is the only one pending: the change is
    // made on its base snapshot, so that is what the stored index describes if the change stands.
    // No query: the unit's transaction holds a connection of the pool, and asking the pool for
    // another inside every commit could leave each commit waiting on the others'.
    const cache = this.cacheOf(tableId);
    cache.bringTo(change.baseSnapshotId);
    await this.inner.apply(tableId, change, unit);
    if (followable(change)) cache.pending = change;
    else cache.forget();
  }

  size(tableId: number): Promise<number> {
    return this.inner.size(tableId);
  }

  snapshot(tableId: number): Promise<string | undefined> {
    return this.inner.snapshot(tableId);
  }

  /** The table's cache, brought to the snapshot the stored index describes now. */
  private async synced(tableId: number): Promise<TableCache> {
    const cache = this.cacheOf(tableId);
    cache.bringTo(await this.inner.snapshot(tableId));
    return cache;
  }

  private cacheOf(tableId: number): TableCache {
    let cache = this.tables.get(tableId);
    if (!cache) this.tables.set(tableId, (cache = new TableCache(this.makeRoom)));
    return cache;
  }
}

/** Keys a table's cache sets between two checks of the bound (which it may pass by as many per table). */
const CHECK_EVERY = 1024;

/** A key the cache knows to be in no data file (it was removed). */
const ABSENT = 'absent';

/**
 * A change whose outcome the cache can learn from the change alone: one naming the snapshot it
 * makes. Moves and relocations go by key where the key still is at the old place: what the cache
 * knows of a key is what the stored index holds, and a key it does not know stays unknown. A
 * clear removes keys the change does not name: it empties the cache.
 */
function followable(change: KeyIndexChange): boolean {
  return change.snapshotId !== undefined && !change.cleared;
}

class TableCache {
  /** The snapshot whose places the entries are; undefined: none known (the cache is empty). */
  private at: string | undefined;
  pending: KeyIndexChange | undefined;
  private readonly entries = new Map<string, KeyLocation | typeof ABSENT>();

  /** Counts what made the entries describe another snapshot: a lookup's answers arriving after it are not kept. */
  generation = 0;

  /** Keys set since the bound was last checked. */
  private unchecked = 0;

  constructor(
    /** Called every CHECK_EVERY keys set: the bound is over every table. */
    private readonly grown: () => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Drops the `count` keys left untouched longest. */
  evict(count: number): void {
    let left = count;
    for (const oldest of this.entries.keys()) {
      if (left-- <= 0) break;
      this.entries.delete(oldest);
    }
  }

  get(name: string): KeyLocation | typeof ABSENT | undefined {
    return this.entries.get(name);
  }

  set(name: string, at: KeyLocation | typeof ABSENT): void {
    // Re-inserted, a key counts as new: the oldest are the ones left untouched longest.
    this.entries.delete(name);
    this.entries.set(name, at);
    if (++this.unchecked >= CHECK_EVERY) {
      this.unchecked = 0;
      this.grown();
    }
  }

  forget(): void {
    this.generation++;
    this.entries.clear();
    this.at = undefined;
    this.pending = undefined;
  }

  /** Follows the stored index to `snapshot`: by the pending change when that is what stood, else from empty. */
  bringTo(snapshot: string | undefined): void {
    const change = this.pending;
    this.pending = undefined;
    const stood = change !== undefined && snapshot !== undefined && change.snapshotId === snapshot;
    if (stood && this.at !== snapshot) {
      // On another snapshot than the cache's (the table's first commit, or after a forget), only the change's own keys are known.
      if (change.baseSnapshotId !== this.at) this.entries.clear();
      this.generation++;
      this.learn(change);
      this.at = snapshot;
      return;
    }
    // A change that rolled back leaves the snapshot as it was, and the entries with it. A change
    // naming the snapshot the cache already describes cannot be told from one that rolled back.
    if (stood || snapshot === undefined || snapshot !== this.at) {
      this.forget();
      this.at = snapshot;
    }
  }

  private learn(change: KeyIndexChange): void {
    for (const key of change.removed ?? []) this.set(keyName(key), ABSENT);
    for (const p of change.placed ?? []) this.set(keyName(p.key), { path: p.path, position: p.position });
    for (const file of change.placedFiles ?? []) keyNames(file.keys).forEach((name, position) => this.set(name, { path: file.path, position }));
    // In the stored index's order: moves, then relocations, each only where the key still is.
    for (const { key, from, to } of change.moved ?? []) this.moveIfAt(keyName(key), from.path, from.position, to);
    for (const run of change.relocated ?? []) {
      const names = keyNames(relocationKeys(run));
      run.fromPositions.forEach((position, i) => this.moveIfAt(names[i], run.from, position, { path: run.to, position: run.toPositions[i] }));
    }
  }

  private moveIfAt(name: string, path: string, position: number, to: KeyLocation): void {
    const now = this.entries.get(name);
    if (now !== undefined && now !== ABSENT && now.path === path && now.position === position) this.entries.set(name, to);
  }
}
