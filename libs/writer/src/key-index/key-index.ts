import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { CommitUnit, RelocationRun } from '@philotes/iceberg';

/**
 * Port: the key index of an upsert table written with position deletes (#15) — for each live key,
 * the data file and row position holding it. Its changes join the writer's unit of work, so the
 * index, the table and the writer's progress never part. Keys are digests ({@link indexKey}).
 */
export interface KeyIndex {
  /** Where each key lives now; a key absent from the result is live in no data file. */
  lookup(tableId: number, keys: readonly Uint8Array[]): Promise<Map<string, KeyLocation>>;
  /** Applies one commit's changes inside `unit` (see {@link KeyIndexChange} for their order). */
  apply(tableId: number, change: KeyIndexChange, unit: CommitUnit): Promise<void>;
  /** How many keys the table's index holds. */
  size(tableId: number): Promise<number>;
  /** The snapshot the index last described (the `snapshotId` of its last change); undefined when it has none. */
  snapshot(tableId: number): Promise<string | undefined>;
}

export interface KeyLocation {
  readonly path: string;
  readonly position: number;
}

/**
 * What one commit does to the index, applied in this order: `cleared` forgets every key (a
 * TRUNCATE, a resync); `removed` keys leave; `placed` keys, then every row of `placedFiles`, are
 * (now) at their location, wherever they were; `moved` keys go to their new location only where they still are at the old one (a
 * compaction committing beside other commits must not undo their placements; a key moves at most
 * once per change), as does each key of a compaction's `relocated` rows that is still at the place its row left (runs carry their rows' keys); `droppedFiles`, which no key names any more, leave the file table.
 */
export interface KeyIndexChange {
  readonly cleared?: boolean;
  readonly removed?: readonly Uint8Array[];
  readonly placed?: ReadonlyArray<{ readonly key: Uint8Array } & KeyLocation>;
  /** New data files, each with the keys of all its rows in file order: 16 bytes per row, row i at position i (a commit places thousands; one buffer each, not an object per key). */
  readonly placedFiles?: ReadonlyArray<{ readonly path: string; readonly keys: Uint8Array }>;
  readonly moved?: ReadonlyArray<{ readonly key: Uint8Array; readonly from: KeyLocation; readonly to: KeyLocation }>;
  readonly droppedFiles?: readonly string[];
  /** Rows a compaction copied: the key at each old place, if one still is there, moves to the new place (after `moved`). */
  readonly relocated?: readonly RelocationRun[];
  /** The snapshot the index describes once the change stands (the commit's own). */
  readonly snapshotId?: string;
  /** The snapshot the change was made on (the table's before the commit): lets a cache over the index follow it. */
  readonly baseSnapshotId?: string;
}

/**
 * The index's key for a row's key in its canonical text (the equality key Philotes compares rows
 * by): 16 bytes of its SHA-256, so every key costs the same however wide; two keys meet with
 * probability about n²/2¹²⁹, 10⁻¹⁵ at a billion keys.
 */
export function indexKey(canonical: string): Uint8Array {
  return (oneShot ? oneShot('sha256', canonical, 'buffer') : createHash('sha256').update(canonical, 'utf8').digest()).subarray(0, 16);
}

/** crypto.hash (Node 20.12 on): a digest without a Hash object, about twice as fast for short keys (measured); @types/node lacks it. */
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

/**
 * The canonical text of a row's key cells (`indexes` into `row`), as both the writer's rows and
 * rows read back from Parquet give them: NULL, bytes by content, and numbers and bigints alike (a
 * key stays the same key when its column is promoted from int to long).
 */
export function keyText(row: readonly unknown[], indexes: readonly number[]): string {
  let text = '';
  for (let i = 0; i < indexes.length; i++) {
    const value = row[indexes[i]];
    const cell = value === null || value === undefined ? '\u0001' : value instanceof Uint8Array ? `b${Buffer.from(value).toString('hex')}` : `${typeof value === 'bigint' ? 'number' : typeof value}:${String(value)}`;
    text = i === 0 ? cell : `${text}\u0000${cell}`;
  }
  return text;
}

/**
 * The index key of a row's key cells. A key of one integer cell (most primary keys: serials,
 * identities, snowflake ids) is the integer itself, not a digest: eight zero bytes, then the value
 * as 64 bits big-endian with its sign bit flipped, so keys sort as the integers do and a table
 * keyed by an increasing id adds its keys at the right edge of the index's B-tree, where a digest
 * scatters them over every page (measured: most of a placement's cost). No digest can be mistaken
 * for one unless its first eight bytes are zero (2⁻⁶⁴), and a table's keys are all of one form.
 * Other keys are digests of their canonical text ({@link keyText}); an integer-valued number and a
 * bigint meet in both forms, as they do there.
 */
export function rowIndexKey(row: readonly unknown[], indexes: readonly number[]): Uint8Array {
  const key = new Uint8Array(KEY_BYTES);
  writeRowIndexKey(row, indexes, key, new DataView(key.buffer), 0);
  return key;
}

/** Writes a row's index key (see {@link rowIndexKey}) at `at` of `out` (`view` over the same bytes): no key allocated per row. */
export function writeRowIndexKey(row: readonly unknown[], indexes: readonly number[], out: Uint8Array, view: DataView, at: number): void {
  if (indexes.length === 1 && writeIntegerKey(row[indexes[0]], out, view, at)) return;
  out.set(indexKey(keyText(row, indexes)), at);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Writes an integer's key; false (nothing written) for any other value. */
function writeIntegerKey(value: unknown, out: Uint8Array, view: DataView, at: number): boolean {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return Number.isInteger(value) && writeIntegerKey(BigInt(value), out, view, at);
    // Without a BigInt: the high and low 32 bits (a safe integer's high word fits an int32).
    const high = Math.floor(value / 2 ** 32);
    view.setUint32(at, 0);
    view.setUint32(at + 4, 0);
    view.setUint32(at + 8, ((high >>> 0) ^ 0x80000000) >>> 0);
    view.setUint32(at + 12, value - high * 2 ** 32);
    return true;
  }
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) return false;
  view.setUint32(at, 0);
  view.setUint32(at + 4, 0);
  view.setBigInt64(at + 8, value);
  out[at + 8] ^= 0x80;
  return true;
}

/** A relocation run's keys, one per row: an index moves its entries by key. */
export function relocationKeys(run: RelocationRun): Uint8Array {
  if (!run.keys || run.keys.length !== run.fromPositions.length * KEY_BYTES) throw new Error(`a relocation from ${run.from} carries no key for each of its rows`);
  return run.keys;
}

/** The bytes of an index key. */
export const KEY_BYTES = 16;

/** The placements of a `placedFiles` entry, one per row. */
export function* filePlacements(file: { readonly path: string; readonly keys: Uint8Array }): Generator<{ key: Uint8Array } & KeyLocation> {
  for (let position = 0; position * KEY_BYTES < file.keys.length; position++) {
    yield { key: file.keys.subarray(position * KEY_BYTES, (position + 1) * KEY_BYTES), path: file.path, position };
  }
}

/** A key as the lookup's result names it. */
export function keyName(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}

/** The names of packed keys (KEY_BYTES each, as placedFiles and relocation runs carry them), in order: one hex encoding for all. */
export function keyNames(keys: Uint8Array): string[] {
  const hex = Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength).toString('hex');
  return Array.from({ length: keys.length / KEY_BYTES }, (_, i) => hex.slice(i * KEY_BYTES * 2, (i + 1) * KEY_BYTES * 2));
}

/** Refuses a change that moves a key twice: the moves of one change are not ordered. */
export function assertMovesOnce(change: KeyIndexChange): void {
  const seen = new Set<string>();
  for (const { key } of change.moved ?? []) {
    const name = keyName(key);
    if (seen.has(name)) throw new Error(`key index: key ${name} moves twice in one change`);
    seen.add(name);
  }
}
