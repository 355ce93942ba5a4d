import { Registry } from 'prom-client';
import { BEFORE_FIRST, COPY_MARKER_SEQ, copyRowSeq, MemoryBuffer, MemoryTableBuffer, Position, TableRef } from '@philotes/buffer';
import { ChangePayload, createEncoder, encodePayload, PgNumeric } from '@philotes/events';
import { FaultInjector, NO_FAULTS } from '@philotes/faults';
import { currentSchema, currentSnapshot, IcebergTables, MemoryCatalog, MemoryObjectStore, snapshotRows, TableIdentifier } from '@philotes/iceberg';
import { formatLsn } from '@philotes/pgoutput';
import { ClassifiedError } from '@philotes/retry';
import { column, numericModifier, sourceProperties } from '@philotes/table-mapping';
import { bufferChanges, SourceChange, writerConfig } from './writer-fixtures';
import { CopyChangedError } from './copy-run';
import { CommitConflictError, PoisonRetryError, StalePositionError, TableWriter, UpsertDeletes, WriterSettings } from './table-writer';
import { MemoryKeyIndex } from './key-index/memory-key-index';
import { WriterMetrics } from './writer-metrics';
import { writerSettingsOf } from './writer-settings';

/**
 * TableWriter over the memory buffer (MemoryTableBuffer), a memory catalog and a memory warehouse.
 * Real: the writer, the fold (BatchAssembler), the type mapping, the Parquet, manifest and
 * metadata files, the payload codec. In memory: the buffer database and the catalog, with the
 * Postgres stores' contracts (compare-and-swap of the position, all-or-nothing commits, dead-letter
 * moves guarded by the model). Another process's moves are made at the writer's fault points.
 */

const ref: TableRef = { tableId: 1, sourceId: 'src', schema: 'public', table: 'accounts' };
const id: TableIdentifier = { namespace: 'public', name: 'accounts' };
const columns = [column('id', 'int4', { key: true, primaryKey: true }), column('name', 'text'), column('balance', 'numeric', { typeModifier: numericModifier(10, 2) })];
const insert = (key: number, name: string, balance = '1.00'): SourceChange => ({ op: 'I', after: [key, name, new PgNumeric(balance)] });
const update = (key: number, name: string, balance = '1.00'): SourceChange => ({ op: 'U', after: [key, name, new PgNumeric(balance)] });
const remove = (key: number): SourceChange => ({ op: 'D', before: [key, null, null] });
/** NaN fits no decimal column: a poison value (PHILOTES_ICEBERG_UNREPRESENTABLE=reject). */
const poison = (key: number): SourceChange => ({ op: 'I', after: [key, 'poison', new PgNumeric('NaN')] });

/** The suite runs for each way upsert tables delete rows: by position (a key index) and by equality. */
const DELETES = (process.env.PHILOTES_WRITER_SPEC_DELETES ?? '') as UpsertDeletes | '';
let baseSettings: WriterSettings = writerSettingsOf(writerConfig({ icebergTableModes: [], icebergColumnTypes: [], retryMaxAttempts: 3 }));

class World {
  readonly events = new MemoryBuffer();
  readonly buffer = new MemoryTableBuffer(this.events);
  readonly catalog = new MemoryCatalog();
  readonly tables = new IcebergTables(new MemoryObjectStore(), this.catalog);
  readonly registry = new Registry();
  readonly metrics = new WriterMetrics(this.registry);
  readonly keyIndex = new MemoryKeyIndex();
  settings: WriterSettings = baseSettings;

  /** A table writer; `faults` runs `another` (another process's move) at a fault point, once. */
  writer(another?: { readonly at: string; readonly does: () => void }): TableWriter {
    const faults = another ? new FaultInjector(another.at, () => another.does()) : NO_FAULTS;
    const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
    return new TableWriter(ref, { buffer: this.buffer, tables: this.tables, settings: () => this.settings, metrics: this.metrics, faults, log, keyIndex: this.keyIndex });
  }

  stream(...changes: SourceChange[]): Promise<Position[]> {
    return bufferChanges(this.events, ref, columns, changes);
  }

  position(): Promise<Position> {
    return this.buffer.position(ref.tableId);
  }

  /** The table's rows as a reader of the current snapshot sees them (Parquet read back, deletes applied): id → [name, balance]. */
  async rows(): Promise<Map<number, [unknown, unknown]>> {
    const table = (await this.tables.load(id))!;
    const snapshot = currentSnapshot(table.metadata);
    const rows = new Map<number, [unknown, unknown]>();
    if (!snapshot) return rows;
    const fields = currentSchema(table.metadata).fields;
    const at = (name: string) => fields.findIndex((field) => field.name === name);
    for await (const row of snapshotRows(this.tables, table.metadata, snapshot['snapshot-id'], fields)) rows.set(Number(row[at('id')]), [row[at('name')], row[at('balance')]]);
    return rows;
  }

  async snapshots(): Promise<number> {
    return (await this.tables.load(id))?.metadata.snapshots?.length ?? 0;
  }

  /** A copy of the table as the reader stores it: its TRUNCATE and its rows at one LSN, the copy finished with `rowsCopied`. */
  async copy(lsn: bigint, rows: readonly SourceChange[], rowsCopied = rows.length): Promise<Position> {
    const version = await this.events.schemaStore.recordVersion(ref.tableId, { relationOid: ref.tableId, replicaIdentity: 'd', columns }, 0n);
    const encoder = createEncoder();
    const kinds = columns.map((c) => c.kind);
    const event = (seq: number, op: 'T' | 'R', payload: ChangePayload) => ({ tableId: ref.tableId, commitLsn: lsn, seq, op, xid: null, commitTime: lsn * 1_000n, schemaVersion: version, payload: encodePayload(encoder, payload, kinds) });
    this.events.events.push(event(COPY_MARKER_SEQ, 'T', { truncate: { cascade: false, restartIdentity: false } }), ...rows.map((row, n) => event(copyRowSeq(n), 'R', { after: row.after! })));
    this.buffer.copies.set(ref.tableId, { status: 'done', finished: true, rowsCopied, reason: 'resync' });
    return { lsn, seq: copyRowSeq(rows.length - 1) };
  }

  letters(status?: string) {
    return this.buffer.deadLetters.filter((letter) => status === undefined || letter.status === status);
  }
}

/** Steps until the step resolves, collecting what it threw on the way (no more than `limit` steps). */
async function stepThrough(writer: TableWriter, limit: number): Promise<{ errors: unknown[]; outcome: string }> {
  const errors: unknown[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      return { errors, outcome: await writer.step() };
    } catch (error) {
      errors.push(error);
    }
  }
  throw new Error(`still failing after ${limit} steps: ${String(errors.at(-1))}`);
}

describe.each(DELETES ? [DELETES] : (['position', 'equality'] as const))('TableWriter (upserts delete by %s)', (deletes) => {
  beforeAll(() => {
    baseSettings = { ...writerSettingsOf(writerConfig({ icebergTableModes: [], icebergColumnTypes: [], retryMaxAttempts: 3 })), upsertDeletes: deletes };
  });

  it('creates the Iceberg table on its first step, writes the changes and moves the position to the last one', async () => {
    const world = new World();
    const positions = await world.stream(insert(1, 'ada', '10.50'), insert(2, 'bob'), update(1, 'ada', '12.00'), insert(3, 'cy'), update(1, 'ada lovelace'), remove(2));
    const writer = world.writer();

    expect(await writer.step()).toBe('idle');

    const table = (await world.tables.load(id))!;
    expect(table.metadata.properties).toMatchObject({ 'philotes.mode': 'upsert', ...sourceProperties(ref) });
    expect(currentSnapshot(table.metadata)?.summary).toMatchObject({ 'philotes.source-seq': '0', 'philotes.source': 'src' });
    const rows = await world.rows();
    expect([...rows.keys()].sort()).toEqual([1, 3]);
    expect(rows.get(1)?.[0]).toBe('ada lovelace');
    expect(rows.get(3)?.[0]).toBe('cy');
    expect(await world.position()).toEqual(positions.at(-1));
    expect(await world.snapshots()).toBe(1);
    expect(world.letters()).toEqual([]);
  });

  it('does nothing on a caught-up step but settle the table once: no snapshot, the position stays', async () => {
    const world = new World();
    const [last] = await world.stream(insert(1, 'ada'));
    const writer = world.writer();
    await writer.step();

    expect(await writer.step()).toBe('idle');
    expect(await writer.step()).toBe('idle');

    expect(await world.snapshots()).toBe(1);
    expect(await world.position()).toEqual(last);
    // Settled at most once a minute: the second caught-up step does not settle again.
    expect(world.buffer.settles).toEqual([{ tableId: ref.tableId, at: last }]);
  });

  it('before any change or copy, creates no table and stays idle', async () => {
    const world = new World();
    expect(await world.writer().step()).toBe('idle');
    expect(await world.catalog.list()).toEqual([]);
    expect(await world.position()).toEqual(BEFORE_FIRST);
  });

  it('chains pages of batchSize events into one commit', async () => {
    const world = new World();
    world.settings = { ...baseSettings, batchSize: 2 };
    const positions = await world.stream(insert(1, 'a'), insert(2, 'b'), insert(3, 'c'), insert(4, 'd'), insert(5, 'e'));

    expect(await world.writer().step()).toBe('idle');

    expect(await world.snapshots()).toBe(1);
    expect([...(await world.rows()).keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await world.position()).toEqual(positions.at(-1));
  });

  it("ends a commit that fills the target file size with 'more', and applies the rest at the next step", async () => {
    const world = new World();
    // Any payload fills a commit of a one-byte target: one event per commit.
    world.settings = { ...baseSettings, targetFileSize: 1 };
    const positions = await world.stream(insert(1, 'a'), insert(2, 'b'));
    const writer = world.writer();

    expect(await writer.step()).toBe('more');
    expect(await world.position()).toEqual(positions[0]);
    expect([...(await world.rows()).keys()]).toEqual([1]);

    expect(await writer.step()).toBe('idle');
    expect(await world.position()).toEqual(positions[1]);
    expect([...(await world.rows()).keys()].sort()).toEqual([1, 2]);
    expect(await world.snapshots()).toBe(2);
  });

  it('refuses a commit whose position another writer moved meanwhile (StalePositionError): its snapshot does not stand, and it starts again from the stored position', async () => {
    const world = new World();
    const positions = await world.stream(insert(1, 'a'));
    await world.writer().step();
    const before = await world.catalog.load(id);
    await world.stream(insert(2, 'b'), insert(3, 'c'));
    const theirs = { lsn: positions[0].lsn + 0x10n, seq: 0 };
    const writer = world.writer({ at: 'writer.after-metadata', does: () => world.buffer.setPosition(ref.tableId, theirs) });

    await expect(writer.step()).rejects.toBeInstanceOf(StalePositionError);

    expect(await world.position()).toEqual(theirs);
    expect(await world.catalog.load(id)).toBe(before);
    expect([...(await world.rows()).keys()]).toEqual([1]);
    // Reset: the next step reloads the position and applies only what follows it.
    expect(await writer.step()).toBe('idle');
    expect([...(await world.rows()).keys()].sort()).toEqual([1, 3]);
  });

  it('raises CommitConflictError when the catalog moved under the commit, and nothing of the commit stands', async () => {
    const world = new World();
    const positions = await world.stream(insert(1, 'a'), poison(9));
    world.settings = { ...baseSettings, maxAttempts: 1 };
    await world.writer().step();
    const letters = world.letters().length;
    await world.stream(insert(2, 'b'));
    // Another process committed a snapshot of the table between our prepare and our swap.
    const base = (await world.tables.load(id))!;
    const rival = await world.tables.prepare(base, { operation: 'append', addedDataFiles: [], addedDeleteFiles: [] });
    const writer = world.writer({ at: 'writer.after-metadata', does: () => void world.catalog.swap(id, base.metadataLocation, rival.metadataLocation) });

    await expect(writer.step()).rejects.toBeInstanceOf(CommitConflictError);

    expect(await world.position()).toEqual(positions[1]);
    expect(await world.catalog.load(id)).toBe(rival.metadataLocation);
    expect(world.letters()).toHaveLength(letters);
    expect((await world.metrics.commitConflicts.get()).values[0]?.value).toBe(1);
    // The next step commits on top of the other's snapshot.
    expect(await writer.step()).toBe('idle');
    expect([...(await world.rows()).keys()].sort()).toEqual([1, 2]);
    expect(await world.snapshots()).toBe(3);
  });

  it('leaves neither the snapshot, the position nor the dead letters when the transaction fails at its end', async () => {
    const world = new World();
    const positions = await world.stream(insert(1, 'a'));
    const writer = world.writer();
    await writer.step();
    const before = await world.catalog.load(id);
    // The failing commit also carries a dead letter (attempts spent at once): it must not stay either.
    world.settings = { ...baseSettings, maxAttempts: 1 };
    await world.stream(insert(2, 'b'), poison(9));
    world.buffer.failNextCommit = new Error('connection lost at COMMIT');

    await expect(writer.step()).rejects.toThrow('connection lost at COMMIT');

    expect(await world.catalog.load(id)).toBe(before);
    expect(await world.position()).toEqual(positions[0]);
    expect(world.letters()).toHaveLength(0);
    expect(await writer.step()).toBe('idle');
    expect([...(await world.rows()).keys()].sort()).toEqual([1, 2]);
    expect(world.letters()).toHaveLength(1);
  });

  it('leaves a table a copy holds alone: idle, nothing read', async () => {
    const world = new World();
    await world.stream(insert(1, 'a'));
    world.buffer.copies.set(ref.tableId, { status: 'copying', finished: false, rowsCopied: 0, reason: 'joined' });
    const reads = jest.spyOn(world.buffer, 'storedAfter');

    expect(await world.writer().step()).toBe('idle');

    expect(reads).not.toHaveBeenCalled();
    expect(await world.catalog.list()).toEqual([]);
    expect(await world.position()).toEqual(BEFORE_FIRST);
  });

  it("applies a finished copy in one commit that replaces the table's content, then the changes after it", async () => {
    const world = new World();
    const [streamed] = await world.stream(insert(1, 'before the copy'));
    const writer = world.writer();
    await writer.step();
    // A resync: the copy's position sorts after what was applied, the stream goes on after it.
    const copied = await world.copy(streamed.lsn + 0x100n, [insert(10, 'x'), insert(11, 'y')]);
    world.events.events.push({ ...world.events.events[0], commitLsn: streamed.lsn + 0x200n });

    expect(await writer.step()).toBe('more');
    expect([...(await world.rows()).keys()].sort()).toEqual([10, 11]);
    expect(await world.position()).toEqual(copied);

    expect(await writer.step()).toBe('idle');
    expect([...(await world.rows()).keys()].sort()).toEqual([1, 10, 11]);
  });

  it('refuses to commit a copy that changed while it was folded (CopyChangedError): nothing of it stands', async () => {
    const world = new World();
    const [streamed] = await world.stream(insert(1, 'a'));
    await world.writer().step();
    const before = await world.catalog.load(id);
    // The backfill row says three rows were copied; the buffer holds two.
    await world.copy(streamed.lsn + 0x100n, [insert(10, 'x'), insert(11, 'y')], 3);

    await expect(world.writer().step()).rejects.toBeInstanceOf(CopyChangedError);

    expect(await world.catalog.load(id)).toBe(before);
    expect(await world.position()).toEqual(streamed);
  });

  it('retries a poison value (PoisonRetryError) until its attempts are spent, then commits the rest with it as a dead letter', async () => {
    const world = new World();
    const positions = await world.stream(insert(1, 'a'), poison(2), insert(3, 'c'));
    const writer = world.writer();

    const { errors, outcome } = await stepThrough(writer, 5);

    // maxAttempts 3: two failed steps, then the third commits.
    expect(errors).toHaveLength(2);
    expect(errors.every((error) => error instanceof PoisonRetryError)).toBe(true);
    expect(outcome).toBe('idle');
    expect([...(await world.rows()).keys()].sort()).toEqual([1, 3]);
    expect(await world.position()).toEqual(positions[2]);
    const [letter] = world.letters();
    expect(world.letters()).toHaveLength(1);
    expect(letter).toMatchObject({ status: 'pending', attempts: 3, kind: 'poison', event: { position: positions[1], op: 'I' } });
    expect(letter.key).toBeDefined();
  });

  it('with the dead letters disabled, stops the table at the poison value for an operator', async () => {
    const world = new World();
    world.settings = { ...baseSettings, deadLettersEnabled: false };
    await world.stream(insert(1, 'a'), poison(2));
    const writer = world.writer();
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) await writer.step().catch((error: unknown) => errors.push(error));

    expect(errors.slice(0, 2).every((error) => error instanceof PoisonRetryError)).toBe(true);
    const last = errors[2] as ClassifiedError;
    expect(last).toBeInstanceOf(ClassifiedError);
    expect(last).not.toBeInstanceOf(PoisonRetryError);
    expect(last.directive).toMatchObject({ kind: 'poison', retry: false, recovery: 'operator' });
    expect(last.message).toMatch(/^table public\.accounts: /);
    expect(last.directive.action).toMatch(/PHILOTES_DLQ_ENABLED/);
    expect(await world.position()).toEqual(BEFORE_FIRST);
    expect(world.letters()).toEqual([]);
  });

  it('supersedes an open dead letter when a later change of its key is written (upsert)', async () => {
    const world = new World();
    world.settings = { ...baseSettings, maxAttempts: 1 };
    await world.stream(insert(1, 'a'), poison(2));
    const writer = world.writer();
    await writer.step();
    expect(world.letters('pending')).toHaveLength(1);

    await world.stream(update(2, 'fixed', '2.00'));
    expect(await writer.step()).toBe('idle');

    expect(world.letters('pending')).toEqual([]);
    expect(world.letters('superseded')).toHaveLength(1);
    expect((await world.rows()).get(2)?.[0]).toBe('fixed');
  });

  it('replays a dead letter an operator asked for: applied and settled in one commit, the position where it was', async () => {
    const world = new World();
    world.settings = { ...baseSettings, maxAttempts: 1 };
    const positions = await world.stream(insert(1, 'a'), poison(2), insert(3, 'c'));
    const writer = world.writer();
    await writer.step();
    // The operator fixed what made it poison (here: the stored event is replaced by one that maps).
    const [letter] = world.letters();
    const fixedEvent = await fixedLetterEvent(letter.event.position, letter.event.commitTime);
    world.buffer.deadLetters[world.buffer.deadLetters.indexOf(letter)] = { ...letter, event: fixedEvent };
    world.buffer.requestReplay([letter.id]);
    const snapshots = await world.snapshots();

    expect(await writer.step()).toBe('more');

    expect(world.letters('replayed').map((l) => l.id)).toEqual([letter.id]);
    expect((await world.rows()).get(2)?.[0]).toBe('replayed');
    expect(await world.position()).toEqual(positions[2]);
    expect(await world.snapshots()).toBe(snapshots + 1);
    // The snapshot names where the table stands, not the letter's older position.
    const summary = currentSnapshot((await world.tables.load(id))!.metadata)?.summary;
    expect(summary).toMatchObject({ 'philotes.source-lsn': formatLsn(positions[2].lsn), 'philotes.replayed-events': '1' });
    // Nothing more to replay, nothing new to apply.
    expect(await writer.step()).toBe('idle');
    expect(await world.snapshots()).toBe(snapshots + 1);
  });

  it('puts a replayed letter that still does not map back to pending, with one more attempt', async () => {
    const world = new World();
    world.settings = { ...baseSettings, maxAttempts: 1 };
    const positions = await world.stream(insert(1, 'a'), poison(2));
    const writer = world.writer();
    await writer.step();
    const [letter] = world.letters();
    world.buffer.requestReplay([letter.id]);

    expect(await writer.step()).toBe('more');

    expect(world.letters()).toEqual([expect.objectContaining({ id: letter.id, status: 'pending', attempts: letter.attempts + 1, history: ['failed', 'replay-requested', 'replay-failed'] })]);
    expect([...(await world.rows()).keys()]).toEqual([1]);
    expect(await world.position()).toEqual(positions[1]);
  });
});

/** The event of a fixed letter: the same position and commit time, a value that maps. */
async function fixedLetterEvent(position: Position, commitTime: bigint) {
  const scratch = new MemoryBuffer();
  await bufferChanges(scratch, ref, columns, [insert(2, 'replayed')]);
  const stored = scratch.events[0];
  return { position, op: stored.op, xid: stored.xid, commitTime, schemaVersion: 1, payload: Buffer.from(stored.payload) };
}
