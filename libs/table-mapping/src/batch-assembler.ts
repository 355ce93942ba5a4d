import { CdcValue, UnchangedToast } from '@philotes/events';
import { NestedField } from '@philotes/iceberg';
import { DecodedEvent, Position } from '@philotes/buffer';
import { TableLayout } from './table-layout';
import { OversizedEventError, PoisonValueError, unixMicros } from './type-mapping';

/** A value an update left unchanged and did not send (TOAST); looked up in the table when the batch cannot tell. */
export interface PendingToast {
  readonly key: string;
  readonly keyValues: readonly unknown[];
  readonly fieldIndex: number;
  readonly change: DecodedEvent;
}

/** A change that cannot be written, with the key of the row it would change (upsert tables). */
export interface PoisonChange {
  readonly change: DecodedEvent;
  readonly error: PoisonValueError;
  /** The row key in the writer's form; undefined for append tables or an unreadable key. */
  readonly key?: string;
  /** A later change of the same key in the same batch was written: replaying this one would undo it. */
  superseded?: boolean;
}

/** What a batch of one table's changes becomes: rows to add, keys to delete, and what failed. */
export interface AssembledBatch {
  /** Data rows, each aligned with `fields`. */
  readonly rows: unknown[][];
  /** Equality-delete rows (upsert), each aligned with `keyFields`. */
  readonly deletes: unknown[][];
  readonly fields: readonly NestedField[];
  readonly keyFields: readonly NestedField[];
  /** A TRUNCATE in the batch: every file of the table goes before the rows are added. */
  readonly truncated: boolean;
  readonly poison: readonly PoisonChange[];
  /**
   * Upsert: every key a written change of the batch touched (deleted keys too). Open dead letters
   * of these keys from before the batch are superseded by it.
   */
  readonly touchedKeys: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  readonly last: Position;
  /** Commit time (PostgreSQL-epoch microseconds) of the last change. */
  readonly lastCommitTime: bigint;
  readonly count: number;
  /** Unchanged-TOAST values to fill from the table before writing; rows hold UNRESOLVED there. */
  readonly pendingToast: readonly PendingToast[];
}

/**
 * The new image with its unchanged TOAST values taken from the old row, when a full old row came
 * with the change (REPLICA IDENTITY FULL, whose old tuple PostgreSQL logs detoasted): a key of
 * every column (FULL without a primary key) then holds them all.
 */
function withToastFromBefore(after: readonly CdcValue[], change: DecodedEvent): readonly CdcValue[] {
  const before = change.before;
  if (!before || change.beforeIsKeyOnly || !after.some((value) => value instanceof UnchangedToast)) return after;
  return after.map((value, i) => (value instanceof UnchangedToast && before[i] !== undefined && !(before[i] instanceof UnchangedToast) ? before[i] : value));
}

/** Marks a row cell that waits for a TOAST lookup. */
export const UNRESOLVED = Symbol('unresolved-toast');

/**
 * Folds a run of changes (all of one schema version, so one layout) into rows.
 *
 * Upsert: per key, only the last state survives the batch: a row to write, or a delete; every key
 * the batch updated or deleted gets an equality delete, so older versions in earlier snapshots
 * disappear while the new row (same snapshot, same sequence number) stays. A key changed by an UPDATE deletes the
 * old key. Append: every change is a row, with its operation, LSN, commit time and position.
 */
export class BatchAssembler {
  private readonly fields: readonly NestedField[];
  private readonly fieldIndex = new Map<number, number>();
  /** For each placement (source column), the index of its field in a row. */
  private readonly placementIndexes: readonly number[];
  private readonly upserts = new Map<string, unknown[] | null>();
  private readonly deleteKeys = new Map<string, unknown[]>();
  private readonly appended: unknown[][] = [];
  /**
   * Append mode: the last row of each key, for TOAST fills. Built only once a change with an
   * unchanged TOAST value shows up: insert-heavy batches never pay for keys they do not need.
   */
  private lastByKey?: Map<string, unknown[]>;
  /** The last commit time converted for `_cdc_commit_ts` (a transaction's events share it). */
  private commitTime = -1n;
  private commitMicros = 0n;
  private cdcIndexes?: [number, number, number, number];
  private readonly pending: PendingToast[] = [];
  private readonly poison: PoisonChange[] = [];
  /** Upsert: poison of this batch by key, until a later change of the key supersedes it. */
  private readonly poisonByKey = new Map<string, PoisonChange[]>();
  private truncated = false;
  private last?: Position;
  private lastCommitTime = 0n;
  private count = 0;

  /**
   * `replay`: the changes come back from the dead letters, so "an insert of an untouched key needs
   * no delete" does not hold (the table may have moved on since): every key gets its delete.
   */
  constructor(
    private readonly layout: TableLayout,
    private readonly options: { readonly replay?: boolean } = {},
  ) {
    this.fields = layout.schema.fields;
    this.fields.forEach((field, i) => this.fieldIndex.set(field.id, i));
    this.placementIndexes = layout.placements.map((placement) => this.fieldIndex.get(placement.field.id)!);
  }

  add(change: DecodedEvent, skipPoison: boolean): void {
    this.last = change.position;
    this.lastCommitTime = change.commitTime;
    this.count++;
    if (change.oversized !== undefined) {
      // No row to write, now or on a retry: to the dead letters at once.
      this.addPoison({ change, error: new OversizedEventError(change.oversized), key: undefined });
      return;
    }
    try {
      if (change.op === 'T') return this.truncate(change);
      if (this.layout.mode === 'upsert') this.upsert(change);
      else this.append(change);
    } catch (error) {
      if (!(error instanceof PoisonValueError)) throw error;
      if (!skipPoison) throw error;
      this.addPoison({ change, error, key: this.keyOfChange(change) });
    }
  }

  /** The row key a change would write (upsert tables), or undefined when it cannot be read. */
  keyOfChange(change: DecodedEvent): string | undefined {
    if (this.layout.mode !== 'upsert' || change.op === 'T') return undefined;
    try {
      return this.keyOf(change.op === 'D' ? this.required(change.before, change) : withToastFromBefore(this.required(change.after, change), change)).key;
    } catch {
      return undefined;
    }
  }

  private addPoison(entry: PoisonChange): void {
    this.poison.push(entry);
    if (entry.key === undefined) return;
    const list = this.poisonByKey.get(entry.key);
    if (list) list.push(entry);
    else this.poisonByKey.set(entry.key, [entry]);
  }

  /** A change of `key` was written: earlier poison of the key in this batch is superseded. */
  private written(key: string): void {
    const list = this.poisonByKey.get(key);
    if (!list) return;
    for (const entry of list) entry.superseded = true;
    this.poisonByKey.delete(key);
  }

  result(): AssembledBatch {
    const rows = this.layout.mode === 'upsert' ? [...this.upserts.values()].filter((row): row is unknown[] => row !== null) : this.appended;
    return {
      rows,
      deletes: this.truncated ? [] : [...this.deleteKeys.values()],
      fields: this.fields,
      keyFields: this.layout.keyFields,
      truncated: this.truncated,
      poison: this.poison,
      touchedKeys: this.layout.mode === 'upsert' ? this.upserts : new Set<string>(),
      last: this.last!,
      lastCommitTime: this.lastCommitTime,
      count: this.count,
      pendingToast: this.pending,
    };
  }

  /** Upsert: the table empties. Append: the change log records the TRUNCATE and keeps its history. */
  private truncate(change: DecodedEvent): void {
    if (this.layout.mode === 'append') {
      this.appended.push(this.cdcRow(this.emptyRow(), change));
      return;
    }
    this.truncated = true;
    this.upserts.clear();
    this.deleteKeys.clear();
    this.pending.length = 0;
    // The table empties: no earlier change of any key may come back.
    for (const key of [...this.poisonByKey.keys()]) this.written(key);
  }

  private upsert(change: DecodedEvent): void {
    if (change.op === 'D') {
      const before = this.required(change.before, change);
      const { key, values } = this.keyOf(before);
      this.upserts.set(key, null);
      this.deleteKeys.set(key, values);
      if (this.poisonByKey.size > 0) this.written(key);
      return;
    }
    const after = withToastFromBefore(this.required(change.after, change), change);
    const { key, values } = this.keyOf(after);
    if (change.op === 'U' && change.before) {
      const old = this.keyOf(change.before);
      if (old.key !== key) {
        this.upserts.set(old.key, null);
        this.deleteKeys.set(old.key, old.values);
      }
    }
    const touched = this.upserts.has(key);
    const previous = this.upserts.get(key) ?? undefined;
    const row = this.convert(after, change, key, values, previous);
    // Re-inserting keeps the map's order stable by removing first: the row goes out last.
    this.upserts.delete(key);
    this.upserts.set(key, row);
    if (this.poisonByKey.size > 0) this.written(key);
    // An INSERT (or copied row) of a key this batch has not touched needs no delete: the source
    // accepted it, so no live row has that key, and the table mirrors the source up to here.
    // Insert-only streams and initial copies thus write no delete files at all.
    if (touched || this.options.replay || (change.op !== 'I' && change.op !== 'R')) this.deleteKeys.set(key, values);
  }

  private append(change: DecodedEvent): void {
    const image = change.op === 'D' ? this.required(change.before, change) : withToastFromBefore(this.required(change.after, change), change);
    const identified = this.layout.keyPositions.length > 0;
    if (!identified || (!this.lastByKey && !image.some((value) => value instanceof UnchangedToast))) {
      this.appended.push(this.cdcRow(this.convert(image, change, '', [], undefined), change));
      return;
    }
    this.lastByKey ??= this.indexAppended();
    const { key, values } = this.keyOf(image);
    const row = this.convert(image, change, key, values, this.lastByKey.get(key));
    this.lastByKey.set(key, row);
    this.appended.push(this.cdcRow(row, change));
  }

  /** The rows appended so far by key, the last of each key winning. */
  private indexAppended(): Map<string, unknown[]> {
    const keyIndexes = this.layout.keyFields.map((field) => this.fieldIndex.get(field.id)!);
    return new Map(this.appended.map((row) => [rowKey(row, keyIndexes), row]));
  }

  /** A row aligned with the table's fields: converted values, unchanged TOAST filled when known. */
  private convert(image: readonly CdcValue[], change: DecodedEvent, key: string, keyValues: readonly unknown[], previous: unknown[] | undefined): unknown[] {
    const row = this.emptyRow();
    const placements = this.layout.placements;
    // A plain loop: this runs for every change, and a callback per call was measurable garbage.
    for (let position = 0; position < placements.length; position++) {
      const placement = placements[position];
      const index = this.placementIndexes[position];
      let value: CdcValue = image[position];
      if (value instanceof UnchangedToast) {
        const fromBefore = change.before && !change.beforeIsKeyOnly ? change.before[position] : undefined;
        if (previous) {
          row[index] = previous[index];
          continue;
        }
        if (fromBefore !== undefined && !(fromBefore instanceof UnchangedToast)) {
          value = fromBefore;
        } else {
          row[index] = UNRESOLVED;
          this.pending.push({ key, keyValues, fieldIndex: index, change });
          continue;
        }
      }
      row[index] = placement.convert(value);
    }
    return row;
  }

  private cdcRow(row: unknown[], change: DecodedEvent): unknown[] {
    this.cdcIndexes ??= this.cdcFieldIndexes();
    const [op, lsn, ts, seq] = this.cdcIndexes;
    row[op] = change.op;
    row[lsn] = change.position.lsn;
    if (change.commitTime !== this.commitTime) {
      this.commitTime = change.commitTime;
      this.commitMicros = unixMicros(change.commitTime);
    }
    row[ts] = this.commitMicros;
    row[seq] = BigInt(change.position.seq);
    return row;
  }

  private cdcFieldIndexes(): [number, number, number, number] {
    const cdc = this.layout.cdcFields!;
    return [cdc._cdc_op, cdc._cdc_lsn, cdc._cdc_commit_ts, cdc._cdc_seq].map((field) => this.fieldIndex.get(field.id)!) as [number, number, number, number];
  }

  private keyOf(image: readonly CdcValue[]): { key: string; values: unknown[] } {
    const positions = this.layout.keyPositions;
    const values = new Array<unknown>(positions.length);
    let key = '';
    for (let i = 0; i < positions.length; i++) {
      const value = image[positions[i]];
      if (value instanceof UnchangedToast) {
        // Only when no full old row came with it (a TOASTed primary-key column left unchanged):
        // the row cannot be identified, so the change waits in the dead letters, the table flows.
        const column = this.layout.placements[positions[i]].column.name;
        throw new PoisonValueError(column, 'a key column is an unchanged TOAST value and no full old row came with the change', 'the row cannot be identified: resync the table (REPLICA IDENTITY FULL makes later such changes identifiable)');
      }
      values[i] = this.layout.placements[positions[i]].convert(value);
      key = i === 0 ? keyPart(values[i]) : `${key}\u0000${keyPart(values[i])}`;
    }
    return { key, values };
  }

  private emptyRow(): unknown[] {
    return new Array<unknown>(this.fields.length).fill(null);
  }

  private required(image: readonly CdcValue[] | undefined, change: DecodedEvent): readonly CdcValue[] {
    if (!image) throw new Error(`a ${change.op} event without its row image`);
    return image;
  }
}

/**
 * One key cell as text. Numbers and bigints share a form: a key stays the same key when its column
 * is promoted from int to bigint (dead letters record keys across such changes).
 */
function keyPart(value: unknown): string {
  if (value === null) return '\u0001';
  if (value instanceof Uint8Array) return `b${Buffer.from(value).toString('hex')}`;
  const type = typeof value;
  return `${type === 'bigint' ? 'number' : type}:${String(value)}`;
}

/** The key string of a row's key cells (the same form the assembler folds by). */
export function rowKey(row: readonly unknown[], keyIndexes: readonly number[]): string {
  return keyIndexes.map((i) => keyPart(row[i])).join('\u0000');
}

/**
 * Fills the cells waiting for a TOAST lookup with the values of the table's current rows
 * (`found`, by key). A key the table does not have (its insert went to the dead letters, say)
 * cannot be completed: its rows leave the batch and the changes that needed it become poison.
 */
export function resolveToast(batch: AssembledBatch, found: ReadonlyMap<string, readonly unknown[]>): AssembledBatch {
  if (batch.pendingToast.length === 0) return batch;
  const keyIndexes = batch.keyFields.map((f) => batch.fields.indexOf(f));
  const missing = new Set(batch.pendingToast.filter((p) => !found.has(p.key)).map((p) => p.key));
  const rows = batch.rows.flatMap((row) => {
    if (!row.includes(UNRESOLVED)) return [row];
    const key = rowKey(row, keyIndexes);
    if (missing.has(key)) return [];
    const source = found.get(key)!;
    return [row.map((cell, i) => (cell === UNRESOLVED ? source[i] : cell))];
  });
  const poison: PoisonChange[] = batch.pendingToast
    .filter((p) => missing.has(p.key))
    .map((p) => ({
      change: p.change,
      key: p.key,
      error: new PoisonValueError(
        batch.fields[p.fieldIndex].name,
        'an update left this TOASTed value unchanged, and the table has no earlier row for the key to take it from',
        'replay the earlier change of this key from the dead letters first, or set REPLICA IDENTITY FULL on the source table',
      ),
    }));
  const unique = poison.filter((p, i) => poison.findIndex((q) => q.change === p.change) === i);
  // Nothing of a missing key is written after all: it supersedes no dead letter.
  for (const entry of batch.poison) if (entry.key !== undefined && missing.has(entry.key)) entry.superseded = false;
  const touchedKeys = new Set([...batch.touchedKeys.keys()].filter((key) => !missing.has(key)));
  return { ...batch, rows, poison: [...batch.poison, ...unique], touchedKeys, pendingToast: [] };
}
