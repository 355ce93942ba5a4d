import { CommitUnit, DeferredChange } from '@philotes/iceberg';
import { seededRandom } from '@philotes/faults';
import { CachedKeyIndex } from './cached-key-index';
import { KeyIndexChange, KeyLocation, keyName, rowIndexKey } from './key-index';
import { MemoryKeyIndex } from './memory-key-index';

/**
 * The cache in front of the key index, generated: over two tables, commits made through the cache
 * that stand or roll back, commits of another process applied to the stored index behind the
 * cache's back, compactions (moves and relocations by key, from where keys are and where they are not), rebuilds (a clear), a lost index, and a bound of a
 * few keys that makes it evict. After every step a lookup through the cache of any keys equals the
 * stored index's: a stale entry would make the writer delete a row that is no longer the key's.
 * Replay with PHILOTES_CACHE_SEED.
 */

const KEYS = 3000;
const CHECK_SLACK = 2 * 1024;
const first = Number(process.env.PHILOTES_CACHE_SEED ?? 700);
const seeds = process.env.PHILOTES_CACHE_SEED ? [first] : Array.from({ length: 6 }, (_, i) => first + i);

/** A unit whose enlisted changes are applied when it ends, or dropped. */
function unit(): CommitUnit & { end(commit: boolean): void } {
  const changes: DeferredChange[] = [];
  return {
    db: undefined as never,
    enlist: (change) => changes.push(change),
    end: (commit) => changes.forEach((c) => (commit ? c.commit() : c.rollback())),
  };
}

const key = (i: number) => rowIndexKey([i], [0]);

describe('key index cache', () => {
  it.each(seeds)('seed %i: lookups through the cache equal the stored index through commits, rollbacks, foreign commits, compactions, rebuilds and evictions', async (seed) => {
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const bound = [3, 50, 2000, 1_000_000][seed % 4];
    const stored = new MemoryKeyIndex();
    const cache = new CachedKeyIndex(stored, bound);
    let files = 0;
    let snapshots = 0;
    const seen = { learnt: 0, rolledBack: 0, foreign: 0, compactions: 0 };
    const someKeys = (n: number) => Array.from({ length: n }, () => Math.floor(random() * KEYS));

    /** A writer's commit on the table's current snapshot: removals, single placements, whole files. */
    const writerChange = async (tableId: number): Promise<KeyIndexChange> => {
      const path = `f${++files}`;
      const placedKeys = [...new Set(someKeys(Math.floor(random() * 400)))];
      const split = Math.floor(random() * placedKeys.length);
      const keys = new Uint8Array(16 * (placedKeys.length - split));
      placedKeys.slice(split).forEach((k, i) => keys.set(key(k), i * 16));
      return {
        removed: someKeys(Math.floor(random() * 100)).map(key),
        placed: placedKeys.slice(0, split).map((k, position) => ({ key: key(k), path, position })),
        placedFiles: [{ path: `${path}b`, keys }],
        snapshotId: String(++snapshots),
        baseSnapshotId: await stored.snapshot(tableId),
      };
    };

    for (let step = 0; step < 300; step++) {
      const tableId = pick([1, 2]);
      const roll = random();
      const context = `seed ${seed} step ${step} table ${tableId}`;
      if (roll < 0.45) {
        // The writer commits through the cache; one in five rolls back (the catalog swap lost, the transaction failed).
        // Some name the snapshot the index already describes (as a rebuild's steps do): whether they stood cannot be told.
        const u = unit();
        const change = await writerChange(tableId);
        const restated = change.baseSnapshotId !== undefined && random() < 0.15;
        await cache.apply(tableId, restated ? { ...change, snapshotId: change.baseSnapshotId } : change, u);
        const stands = random() < 0.8;
        u.end(stands);
        if (stands) seen.learnt++;
        else seen.rolledBack++;
        if (random() < 0.25) {
          // Another process commits before this one looks again: the change pending in the cache is not what stands.
          const other = unit();
          await stored.apply(tableId, await writerChange(tableId), other);
          other.end(true);
          seen.foreign++;
        }
      } else if (roll < 0.55) {
        // Another process (a writer that took the lease over) commits: the cache must not trust what it knew.
        const u = unit();
        await stored.apply(tableId, await writerChange(tableId), u);
        u.end(true);
        seen.foreign++;
      } else if (roll < 0.65) {
        // A compaction's moves and relocations (from where keys are, and from where they are not), or a rebuild's clear.
        const u = unit();
        const rows = await Promise.all(someKeys(1 + Math.floor(random() * 40)).map(async (k) => ({ k, at: (await stored.lookup(tableId, [key(k)])).get(keyName(key(k))) })));
        const into = `c${++files}`;
        const from = (at: KeyLocation | undefined): KeyLocation => (at && random() < 0.8 ? at : { path: `f${Math.ceil(random() * files)}`, position: Math.floor(random() * 400) });
        const relocatedRows = [...new Map(rows.map((r) => [r.k, r])).values()].map((r) => ({ ...r, from: from(r.at) }));
        const byFile = new Map<string, typeof relocatedRows>();
        for (const r of relocatedRows) byFile.set(r.from.path, [...(byFile.get(r.from.path) ?? []), r]);
        const change: KeyIndexChange = pick<KeyIndexChange>([
          { moved: relocatedRows.slice(0, 5).map((r, i) => ({ key: key(r.k), from: r.from, to: { path: into, position: 1000 + i } })), snapshotId: String(++snapshots), baseSnapshotId: await stored.snapshot(tableId) },
          {
            relocated: [...byFile].map(([path, rs]) => ({ from: path, to: into, fromPositions: rs.map((r) => r.from.position), toPositions: rs.map((_, i) => i), keys: Buffer.concat(rs.map((r) => key(r.k))) })),
            droppedFiles: [...byFile.keys()],
            snapshotId: String(++snapshots),
            baseSnapshotId: await stored.snapshot(tableId),
          },
          { cleared: true, placed: someKeys(20).map((k, position) => ({ key: key(k), path: into, position })), snapshotId: String(++snapshots) },
        ]);
        await cache.apply(tableId, change, u);
        u.end(true);
        seen.compactions++;
      } else if (roll < 0.68) {
        stored.lose(tableId);
      }
      // Lookups through the cache (which then holds their answers) equal the stored index's.
      const asked = someKeys(1 + Math.floor(random() * 300)).map(key);
      const [through, truth] = [await cache.lookup(tableId, asked), await stored.lookup(tableId, asked)];
      expect([context, [...through].sort()]).toEqual([context, [...truth].sort()]);
      expect(cache.held).toBeLessThanOrEqual(bound + CHECK_SLACK);
    }
    // Every key of both tables, at the end: a miss and a stale hit alike would show.
    for (const tableId of [1, 2]) {
      const all = Array.from({ length: KEYS }, (_, i) => key(i));
      const [through, truth] = [await cache.lookup(tableId, all), await stored.lookup(tableId, all)];
      expect([...through].sort()).toEqual([...truth].sort());
    }
    expect(seen.learnt).toBeGreaterThan(50);
    expect(seen.rolledBack + seen.foreign + seen.compactions).toBeGreaterThan(30);
  });

  it('answers a recent commit’s keys from memory, and a bounded cache keeps at most its bound after a check', async () => {
    let asked = 0;
    const stored = new MemoryKeyIndex();
    const counting = Object.assign(Object.create(stored) as MemoryKeyIndex, {
      lookup: (tableId: number, keys: readonly Uint8Array[]) => {
        asked += keys.length;
        return stored.lookup(tableId, keys);
      },
    });
    const cache = new CachedKeyIndex(counting, 1500);
    const keys = new Uint8Array(16 * 5000);
    for (let i = 0; i < 5000; i++) keys.set(key(i), i * 16);
    const u = unit();
    await cache.apply(1, { placedFiles: [{ path: 'f1', keys }], snapshotId: '1', baseSnapshotId: undefined }, u);
    u.end(true);
    // The newest keys are held (the bound evicted the oldest), absent keys too once asked.
    const found = await cache.lookup(1, [key(4999), key(4000), key(9000)]);
    expect(found.get(keyName(key(4999)))).toEqual({ path: 'f1', position: 4999 });
    expect(found.has(keyName(key(9000)))).toBe(false);
    expect(asked).toBe(1);
    await cache.lookup(1, [key(9000), key(0)]);
    expect(asked).toBe(2);
    expect(cache.held).toBeLessThanOrEqual(1500 + 1024);
  });
  it('keeps only its own keys after a change made on another snapshot than the one it knows', async () => {
    // A commit of another process lands between the cache's last look and this process's change,
    // which the writer made on top of it: what the cache knew of the earlier snapshot is stale.
    const stored = new MemoryKeyIndex();
    const cache = new CachedKeyIndex(stored, 1000);
    const commit = async (index: MemoryKeyIndex | CachedKeyIndex, change: KeyIndexChange) => {
      const u = unit();
      await index.apply(1, change, u);
      u.end(true);
    };
    await commit(cache, { placed: [{ key: key(1), path: 'a', position: 0 }], snapshotId: 'A' });
    expect((await cache.lookup(1, [key(1)])).get(keyName(key(1)))).toEqual({ path: 'a', position: 0 });
    const racing = Object.assign(Object.create(stored) as MemoryKeyIndex, {
      apply: async (tableId: number, change: KeyIndexChange, u: CommitUnit) => {
        await commit(stored, { placed: [{ key: key(1), path: 'f', position: 3 }], snapshotId: 'F', baseSnapshotId: 'A' });
        return stored.apply(tableId, change, u);
      },
    });
    const raced = new CachedKeyIndex(racing, 1000);
    await raced.lookup(1, [key(1)]);
    await commit(raced, { placed: [{ key: key(2), path: 'b', position: 0 }], snapshotId: 'B', baseSnapshotId: 'F' });
    const found = await raced.lookup(1, [key(1), key(2)]);
    expect(found.get(keyName(key(1)))).toEqual({ path: 'f', position: 3 });
    expect(found.get(keyName(key(2)))).toEqual({ path: 'b', position: 0 });
  });
  it('asks the stored index nothing while a commit applies its change (the commit holds a connection already)', async () => {
    const stored = new MemoryKeyIndex();
    let asked = 0;
    let probed = 0;
    const counting = Object.assign(Object.create(stored) as MemoryKeyIndex, {
      snapshot: (tableId: number) => {
        asked++;
        return stored.snapshot(tableId);
      },
      lookup: (tableId: number, keys: readonly Uint8Array[]) => {
        probed += keys.length;
        return stored.lookup(tableId, keys);
      },
    });
    const cache = new CachedKeyIndex(counting, 100);
    for (const [snapshotId, baseSnapshotId] of [['1', undefined], ['2', '1'], ['3', '2']] as const) {
      const u = unit();
      await cache.apply(1, { placed: [{ key: key(Number(snapshotId)), path: `f${snapshotId}`, position: 0 }], snapshotId, baseSnapshotId }, u);
      u.end(true);
    }
    expect(asked).toBe(0);
    // Learnt without asking: the second and third commits were made on the ones before them.
    const found = await cache.lookup(1, [key(1), key(2), key(3)]);
    expect(asked).toBe(1);
    expect(probed).toBe(0);
    expect([...found.values()]).toEqual([1, 2, 3].map((n) => ({ path: `f${n}`, position: 0 })));
  });
});
