import { createHash } from 'node:crypto';
import { CommitUnit } from '@philotes/iceberg';

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
}

export interface KeyLocation {
  readonly path: string;
  readonly position: number;
}

/**
 * What one commit does to the index, applied in this order: `cleared` forgets every key (a
 * TRUNCATE, a resync); `removed` keys leave; `placed` keys are (now) at their location, wherever
 * they were; `moved` keys go to their new location only where they still are at the old one (a
 * compaction committing beside other commits must not undo their placements; a key moves at most
 * once per change); `droppedFiles` leave the file table once no key names them.
 */
export interface KeyIndexChange {
  readonly cleared?: boolean;
  readonly removed?: readonly Uint8Array[];
  readonly placed?: ReadonlyArray<{ readonly key: Uint8Array } & KeyLocation>;
  readonly moved?: ReadonlyArray<{ readonly key: Uint8Array; readonly from: KeyLocation; readonly to: KeyLocation }>;
  readonly droppedFiles?: readonly string[];
}

/**
 * The index's key for a row's key in its canonical text (the equality key Philotes compares rows
 * by): 16 bytes of its SHA-256, so every key costs the same however wide; two keys meet with
 * probability about n²/2¹²⁹, 10⁻¹⁵ at a billion keys.
 */
export function indexKey(canonical: string): Uint8Array {
  return createHash('sha256').update(canonical, 'utf8').digest().subarray(0, 16);
}

/** A key as the lookup's result names it. */
export function keyName(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
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
