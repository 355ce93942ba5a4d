import { Client } from 'pg';
import { applyMigrations } from '@philotes/buffer';
import { seededRandom } from '@philotes/faults';
import { CommitUnit, DeferredChange } from '@philotes/iceberg';
import { indexKey, KeyIndex, KeyIndexChange, KeyLocation, keyName, MemoryKeyIndex, PostgresKeyIndex } from '@philotes/writer';
import { createTestDatabase, TestDatabase } from '../support/database';

/**
 * The key index's contract, the same seeded changes applied to the Postgres index (a real
 * database, migration 0006) and the memory one, each checked against a model after every commit;
 * a unit that rolls back leaves either unchanged. Replay a seed with PHILOTES_KEY_INDEX_SEED.
 */
describe('key index', () => {
  let database: TestDatabase;
  let db: Client;
  const tableIds: number[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    await applyMigrations(database.url, { info: () => undefined });
    db = new Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query<{ table_id: number }>("INSERT INTO cdc_tables (source_id, schema_name, table_name) SELECT 'k', 'public', 't' || g FROM generate_series(1, 40) g RETURNING table_id");
    tableIds.push(...rows.map((r) => r.table_id));
  });

  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  /** Runs `apply` in a unit that commits (or, with `rollback`, rolls back): a transaction for Postgres, enlisted changes for memory. */
  async function inUnit(rollback: boolean, apply: (unit: CommitUnit) => Promise<void>): Promise<void> {
    const enlisted: DeferredChange[] = [];
    await db.query('BEGIN');
    try {
      await apply({ db, enlist: (change) => enlisted.push(change) });
      await db.query(rollback ? 'ROLLBACK' : 'COMMIT');
    } catch (error) {
      await db.query('ROLLBACK');
      throw error;
    }
    for (const change of enlisted) (rollback ? change.rollback : change.commit).call(change);
  }

  const first = Number(process.env.PHILOTES_KEY_INDEX_SEED ?? 3300);
  const seeds = process.env.PHILOTES_KEY_INDEX_SEED ? [first] : Array.from({ length: 10 }, (_, i) => first + i);

  it.each(seeds)('seed %i: Postgres and memory indexes follow the model through placements, removals, moves, relocations, clears and rollbacks', async (seed) => {
    const random = seededRandom(seed);
    const tableId = tableIds[seed - first];
    const indexes: Array<[string, KeyIndex]> = [
      ['postgres', new PostgresKeyIndex(db)],
      ['memory', new MemoryKeyIndex()],
    ];
    const model = new Map<string, KeyLocation>();
    const universe = Array.from({ length: 60 }, (_, i) => indexKey(`n:${seed}:${i}`));
    const files = Array.from({ length: 5 }, (_, i) => `file:///w/t/data/f${i}-'quote'.parquet`);
    const created = new Set(files);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const location = (): KeyLocation => ({ path: pick(files), position: Math.floor(random() * 2 ** 40) });

    for (let step = 0; step < 25; step++) {
      const change: { -readonly [K in keyof KeyIndexChange]: KeyIndexChange[K] } = {};
      if (random() < 0.05) change.cleared = true;
      change.removed = universe.filter(() => random() < 0.1);
      // Repeats within one commit: the last placement of a key wins.
      change.placed = Array.from({ length: Math.floor(random() * 30) }, () => ({ key: pick(universe), ...location() }));
      // New files place distinct keys at their rows' positions, after `placed`.
      const fileKeys = [...new Set(Array.from({ length: Math.floor(random() * 12) }, () => pick(universe)))];
      change.placedFiles = random() < 0.5 ? [] : [{ path: `${pick(files)}#new${step}`, keys: Buffer.concat(fileKeys) }];
      for (const file of change.placedFiles) created.add(file.path);
      // Moves from where a key is (they apply) and from where it is not (they must not).
      const live = [...model.entries()];
      const moves = new Map<string, { key: Uint8Array; from: KeyLocation; to: KeyLocation }>();
      for (let m = 0, count = Math.floor(random() * 10); m < count; m++) {
        const [name, at] = live.length > 0 && random() < 0.7 ? pick(live) : [keyName(pick(universe)), location()];
        moves.set(name, { key: Buffer.from(name, 'hex'), from: at, to: location() });
      }
      change.moved = [...moves.values()];
      // A compaction's relocations, each row with its key: from places keys hold (before this
      // change), and from places a key does not hold (a commit beside the compaction moved it on), into a new file.
      const places: Array<[string, KeyLocation]> = [...model.entries()].filter(() => random() < 0.3);
      if (random() < 0.5) places.push([keyName(pick(universe)), location()]);
      const into = `${pick(files)}#rewrite${step}`;
      created.add(into);
      const runs = new Map<string, { from: string; to: string; fromPositions: number[]; toPositions: number[]; keys: Buffer[] }>();
      places.forEach(([name, at], i) => {
        let run = runs.get(at.path);
        if (!run) runs.set(at.path, (run = { from: at.path, to: into, fromPositions: [], toPositions: [], keys: [] }));
        run.fromPositions.push(at.position);
        run.toPositions.push(i);
        run.keys.push(Buffer.from(name, 'hex'));
      });
      change.relocated = [...runs.values()].map(({ keys, ...run }) => ({ ...run, keys: Buffer.concat(keys) }));
      const rollback = random() < 0.15;
      for (const [, index] of indexes) await inUnit(rollback, (unit) => index.apply(tableId, change, unit));
      if (!rollback) {
        if (change.cleared) model.clear();
        for (const key of change.removed) model.delete(keyName(key));
        for (const { key, path, position } of change.placed) model.set(keyName(key), { path, position });
        for (const file of change.placedFiles) fileKeys.forEach((key, position) => model.set(keyName(key), { path: file.path, position }));
        for (const { key, from, to } of change.moved) {
          const now = model.get(keyName(key));
          if (now && now.path === from.path && now.position === from.position) model.set(keyName(key), to);
        }
        for (const run of change.relocated) {
          run.fromPositions.forEach((position, i) => {
            const name = keyName(run.keys!.subarray(i * 16, (i + 1) * 16));
            const now = model.get(name);
            if (now && now.path === run.from && now.position === position) model.set(name, { path: run.to, position: run.toPositions[i] });
          });
        }
      }
      for (const [name, index] of indexes) {
        const found = await index.lookup(tableId, universe);
        expect([seed, step, name, Object.fromEntries([...found].sort())]).toEqual([seed, step, name, Object.fromEntries([...model].sort())]);
        expect([seed, step, name, await index.size(tableId)]).toEqual([seed, step, name, model.size]);
      }
    }
    // Dropped files (no key names them: a compaction moved their keys) leave the file table; named ones stay.
    const named = new Set([...model.values()].map((l) => l.path));
    const { rows: before } = await db.query<{ path: string }>('SELECT path FROM iceberg_key_index_files WHERE table_id = $1', [tableId]);
    await inUnit(false, (unit) => indexes[0][1].apply(tableId, { droppedFiles: [...created].filter((path) => !named.has(path)) }, unit));
    const { rows } = await db.query<{ path: string }>('SELECT path FROM iceberg_key_index_files WHERE table_id = $1', [tableId]);
    expect(new Set(rows.map((r) => r.path))).toEqual(new Set(before.map((r) => r.path).filter((path) => named.has(path))));
    expect(await indexes[0][1].lookup(tableId, universe)).toEqual(new Map([...model].filter(([name]) => universe.some((k) => keyName(k) === name))));
  });

  it('refuses a change that moves a key twice', async () => {
    const key = indexKey('twice');
    const at = { path: 'f', position: 1 };
    for (const index of [new PostgresKeyIndex(db), new MemoryKeyIndex()]) {
      await expect(inUnit(false, (unit) => index.apply(tableIds[20], { moved: [{ key, from: at, to: at }, { key, from: at, to: at }] }, unit))).rejects.toThrow(/moves twice/);
    }
  });

  it('keeps tables apart and looks up many keys in chunks', async () => {
    const index = new PostgresKeyIndex(db);
    const [a, b] = tableIds.slice(-2);
    const keys = Array.from({ length: 120_000 }, (_, i) => indexKey(`n:${i}`));
    await inUnit(false, (unit) => index.apply(a, { placed: keys.map((key, i) => ({ key, path: 'f', position: i })) }, unit));
    expect((await index.lookup(a, keys)).size).toBe(keys.length);
    expect((await index.lookup(b, keys)).size).toBe(0);
    expect((await index.lookup(a, [keys[77_777]])).get(keyName(keys[77_777]))).toEqual({ path: 'f', position: 77_777 });
  });
  it('fences a writer of the release before integer keys: its record of the snapshot fails, an index in another form describes none', async () => {
    const index = new PostgresKeyIndex(db);
    const tableId = tableIds[21];
    await inUnit(false, (unit) => index.apply(tableId, { placed: [{ key: indexKey('fenced'), path: 'f', position: 0 }], snapshotId: '42' }, unit));
    expect(await index.snapshot(tableId)).toBe('42');
    // The earlier release's statement (no key form) rolls its whole commit back.
    await expect(inUnit(false, (unit) => unit.db.query('INSERT INTO iceberg_key_index_state (table_id, snapshot_id) VALUES ($1, 43) ON CONFLICT (table_id) DO UPDATE SET snapshot_id = EXCLUDED.snapshot_id', [tableId]).then(() => undefined))).rejects.toThrow(/key_form/);
    expect(await index.snapshot(tableId)).toBe('42');
    await db.query('UPDATE iceberg_key_index_state SET key_form = 1 WHERE table_id = $1', [tableId]);
    expect(await index.snapshot(tableId)).toBeUndefined();
  });
  it('says so when a key names a file its file table no longer lists, rather than answer without a path', async () => {
    const index = new PostgresKeyIndex(db);
    const tableId = tableIds[22];
    await inUnit(false, (unit) => index.apply(tableId, { placed: [{ key: indexKey('dangling'), path: 'gone', position: 3 }] }, unit));
    await inUnit(false, (unit) => index.apply(tableId, { droppedFiles: ['gone'] }, unit));
    await expect(index.lookup(tableId, [indexKey('dangling')])).rejects.toThrow(/names file number \d+, which it no longer lists/);
  });
});
