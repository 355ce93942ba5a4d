import { DecodedEvent, OpenDeadLetter, Position, StoredEvent, TableBuffer, TableRef } from '@philotes/buffer';
import { FaultInjector } from '@philotes/faults';
import { currentSchema, DataFile, defaultSpec, effectiveProperties, FileContent, IcebergTables, LoadedTable, partitionRequestsOf, TableChange, TableIdentifier, UnplaceableDeletesError } from '@philotes/iceberg';
import { formatLsn } from '@philotes/pgoutput';
import { ClassifiedError, needsOperator, timedRetry } from '@philotes/retry';
import { AssembledBatch, BatchAssembler, ConfiguredPartitionField, currentRows, icebergIdentifier, legacyIdentifier, modeFor, ownershipProblem, PartitioningError, partitioningKey, planLayout, PoisonValueError, resolveToast, sourceProperties, TableLayout, TableMode, TableOwnershipError, Unrepresentable } from '@philotes/table-mapping';
import { fillsCommit } from './commit-size';
import { copyFinished, CopyChangedError, foldCopyRun, isCopyStart } from './copy-run';
import { DeadLetterReplay, ReplaySettlement } from './dead-letter-replay';
import { assertLineageNames, splitFormatVersion, tableKey, TableWriteSettings, WriteLayout, writeLayoutOf } from './table-write-layout';
import { WriterMetrics } from './writer-metrics';
import { KeyIndex } from './key-index/key-index';
import { BY_POSITION, deletesByPosition, DELETES_PROPERTY, KeyedDeletes, keyedDeletes, keyFieldsOf, keyIndexesOf, PlacedFiles } from './key-index/keyed-deletes';
import { rebuildKeyIndex, snapshotOf } from './key-index/rebuild';
import { keyedRows } from './key-index/keyed-rows';

/** The settings a table writer reads on each step (reloads apply between commits). */
export interface WriterSettings {
  readonly batchSize: number;
  /** Payload bytes of one page read from the buffer (one more is prefetched while it is folded). */
  readonly readBytes: number;
  readonly targetFileSize: number;
  readonly maxAttempts: number;
  readonly deadLettersEnabled: boolean;
  readonly namespace: string;
  readonly mode: 'auto' | TableMode;
  readonly tableModes: ReadonlyMap<string, TableMode>;
  readonly textColumns: ReadonlySet<string>;
  /** PHILOTES_ICEBERG_PARTITIONING by {@link partitioningKey}. */
  readonly partitioning: ReadonlyMap<string, readonly ConfiguredPartitionField[]>;
  readonly unrepresentable: Unrepresentable;
  /** Table properties and sort orders from the settings (see writeLayoutOf for their precedence). */
  readonly tableWrite: TableWriteSettings;
  /** How new upsert tables with a primary key delete rows: by position through a key index, or by equality (see keyedDeletes). */
  readonly upsertDeletes: UpsertDeletes;
  /** Existing upsert tables with a primary key deleting by equality switch to position deletes at their next commit. */
  readonly convertEqualityDeletes: boolean;
}

export type UpsertDeletes = 'position' | 'equality';

export interface WriterLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

/** The catalog moved under us (a commit of another process): start the step again from the table's state. */
export class CommitConflictError extends ClassifiedError {
  constructor(table: string) {
    super(`table ${table}: the catalog changed during the commit`, timedRetry('conflict', 'none; retried automatically'));
  }
}

/** The stored position is not ours: another writer applied this table. This one must let it go. */
export class StalePositionError extends ClassifiedError {
  constructor(table: string) {
    super(`table ${table}: its position moved under this writer`, timedRetry('conflict', 'none; the table is picked up again'));
  }
}

/** Poison events retried until their attempts are spent; the table waits with backoff meanwhile. */
export class PoisonRetryError extends ClassifiedError {
  constructor(table: string, readonly poison: PoisonValueError, attempt: number) {
    super(`table ${table}: ${poison.message} (attempt ${attempt})`, timedRetry('poison', poison.directive.action));
  }
}

export type StepOutcome = 'idle' | 'more';

/** A caught-up table settles its byte counters at most this often: drift is rare, the check cheap but not free. */
const SETTLE_EVERY_MS = 60_000;

/** What a commit settles besides the rows: dead letters superseded, and the outcome of a replay. */
interface CommitExtras {
  readonly open: readonly OpenDeadLetter[];
  /** Data files already written for this commit (a copy writes them as it folds). */
  readonly files?: readonly DataFile[];
  /** A copy: checked, in the commit's transaction, to be still whole (see TableCommit.copyIsWhole). */
  readonly copy?: { readonly marker: StoredEvent; readonly rows: number };
  /** A replay of dead letters: the table's position stays where it is. */
  readonly replay?: ReplaySettlement;
  /** The keys of `files`, for a table deleting by position. */
  readonly placed?: PlacedFiles;
}

/**
 * Applies one source table to its Iceberg table, a commit per step: read buffered changes after
 * the table's position, fold them into rows (and equality deletes), write the files, and publish
 * the snapshot with a compare-and-swap in the catalog in the same transaction that moves the
 * position and records dead letters. A crash anywhere leaves either the old state (the files are
 * orphans) or the new one, never a mix.
 */
export class TableWriter {
  private position?: Position;
  /** When a caught-up step next settles the byte counters (see WriterProgress.settleCaughtUp). */
  private nextSettleAt = 0;
  /** Where the last step began (kept through reset): a failure is recorded against it. */
  private stepPosition?: Position;
  private table?: LoadedTable;
  private poisonAttempts = 0;

  /** A file written at the codec's default level instead of the table's: said once per table writer, it repeats for every file. */
  private readonly levelFallback = (reason: string): void => {
    if (this.levelFallbackSaid) return;
    this.levelFallbackSaid = true;
    this.deps.log.warn('writing the table at its codec\'s default compression level: the pages could not be compressed at the level it sets', { table: this.qualified, reason });
  };
  private levelFallbackSaid = false;
  private downgradeSaid = false;
  /** How long the last batch took to read and fold, for the commit's debug line. */
  private readMs = 0;
  private readonly replays: DeadLetterReplay;
  readonly qualified: string;

  constructor(
    readonly ref: TableRef,
    private readonly deps: {
      /** The buffer database: the table's events, position, copy and dead letters, and the commit's transaction. */
      readonly buffer: TableBuffer;
      readonly tables: IcebergTables;
      readonly settings: () => WriterSettings;
      readonly metrics: WriterMetrics;
      readonly faults: FaultInjector;
      readonly log: WriterLog;
      /** Where upsert tables deleting by position keep their keys; without it new tables delete by equality. */
      readonly keyIndex?: KeyIndex;
    },
  ) {
    this.qualified = `${ref.schema}.${ref.table}`;
    // The replay borrows the table as this writer loaded it, and this writer's commit.
    this.replays = new DeadLetterReplay(ref, {
      buffer: deps.buffer,
      metrics: deps.metrics,
      log: deps.log,
      target: {
        qualified: this.qualified,
        position: () => this.position,
        loadTable: async (first, settings) => this.table !== undefined || (await this.ensureTable(first, settings)),
        layoutFor: (first, settings) => this.layoutFor(first, settings),
        resolveToast: (batch) => this.resolveToast(batch),
        commit: (layout, batch, open, settlement) => this.commit(layout, batch, { open, replay: settlement }),
      },
    });
  }

  /**
   * The Iceberg table this source table is written to (see {@link icebergIdentifier}); once the
   * table was found, where it was found (an earlier release's name, see {@link legacyIdentifier}).
   */
  identifier(namespaceTemplate: string): TableIdentifier {
    return this.table?.id ?? icebergIdentifier(namespaceTemplate, this.ref);
  }

  /** Forget cached state (after a conflict or a lost lease): the next step reloads it. */
  reset(): void {
    this.position = undefined;
    this.table = undefined;
  }

  /** The oldest change not yet applied, for the lag metric; undefined when caught up. */
  async oldestPending(): Promise<DecodedEvent | undefined> {
    const position = this.position ?? (await this.deps.buffer.position(this.ref.tableId));
    return (await this.deps.buffer.after(this.ref.tableId, position, 1))[0];
  }

  get lastStepPosition(): Position | undefined {
    return this.stepPosition;
  }

  /** Applies the next commit's worth of changes; 'more' when it left some for the next step. */
  async step(): Promise<StepOutcome> {
    const settings = this.deps.settings();
    this.stepPosition = undefined;
    // A copy the reader asked for since this writer took the table (a new relation, say): its
    // changes wait for the copy (the scheduler lets the table go at its next round).
    if (await this.deps.buffer.copyHolds(this.ref.tableId)) return 'idle';
    // Read on every step: a copy planned by the reader moves it (back, to just before the copy).
    this.position = await this.deps.buffer.position(this.ref.tableId);
    this.stepPosition = this.position;
    // Dead letters still open: replays to apply first, keys a newer change would supersede.
    const open = await this.deps.buffer.openDeadLetters(this.ref.tableId);
    if (open.some((letter) => letter.status === 'replaying')) return this.replays.run(open, settings);
    const position = this.position;
    const page = await this.deps.buffer.storedAfter(this.ref.tableId, position, settings.batchSize, settings.readBytes);
    if (!this.table && !(await this.ensureTable(page[0], settings))) return 'idle';
    if (page.length === 0) {
      if (Date.now() >= this.nextSettleAt) {
        this.nextSettleAt = Date.now() + SETTLE_EVERY_MS;
        await this.deps.buffer.settleCaughtUp(this.ref.tableId, position);
      }
      return 'idle';
    }

    const layout = this.layoutFor(page[0], settings);
    if (isCopyStart(page[0])) return this.applyCopy(page, layout, settings, open);
    const readStarted = performance.now();
    const { batch, more } = await this.assemble(page, layout, settings);
    this.readMs = performance.now() - readStarted;
    const resolved = await this.resolveToast(batch);
    if (resolved.poison.length > 0 && !settings.deadLettersEnabled) {
      throw new ClassifiedError(`table ${this.qualified}: ${resolved.poison[0].error.message}`, needsOperator('poison', 'enable PHILOTES_DLQ_ENABLED or fix the cause; the table is stopped at this event'));
    }
    await this.commit(layout, resolved, { open });
    return more ? 'more' : 'idle';
  }

  /** The open dead letters a normal commit's written keys (or TRUNCATE) supersede. */
  private superseded(layout: TableLayout, batch: AssembledBatch, open: readonly OpenDeadLetter[]): string[] {
    if (layout.mode !== 'upsert' || open.length === 0) return [];
    if (batch.truncated) return open.map((letter) => letter.id);
    return open.filter((letter) => letter.key !== undefined && batch.touchedKeys.has(letter.key)).map((letter) => letter.id);
  }

  /**
   * Loads the Iceberg table, or creates it from the first change's columns (or, before any change,
   * the latest schema the reader recorded, so a copied empty table exists too). False when there is
   * nothing to create it from yet, or it was never copied and has no change.
   */
  private async ensureTable(first: Pick<DecodedEvent, 'columns'> | undefined, settings: WriterSettings): Promise<boolean> {
    let id = this.identifier(settings.namespace);
    let existing = await this.deps.tables.load(id);
    const legacy = legacyIdentifier(settings.namespace, this.ref);
    if (!existing && legacy) {
      // Made by a release that did not escape '.' and '%' in schema names: keep writing it.
      existing = await this.deps.tables.load(legacy);
      if (existing) id = legacy;
    }
    if (existing) {
      this.table = this.owned(id, existing);
      await this.ensureKeyIndex();
      return true;
    }
    let columns = first?.columns;
    if (!columns) {
      // A table the stream only described (a partition whose rows stream under its root, say)
      // gets no Iceberg table before its first event; a copied one does, empty or not.
      if (!(await this.deps.buffer.copied(this.ref.tableId))) return false;
      const latest = await this.deps.buffer.latestVersion(this.ref.tableId);
      if (latest === undefined) return false;
      columns = (await this.deps.buffer.version(this.ref.tableId, latest)).columns;
    }
    const layout = this.layoutFor({ columns }, settings);
    const configured = splitFormatVersion(effectiveProperties({}, settings.tableWrite.globalProperties, settings.tableWrite.tableProperties.get(tableKey(this.ref.schema, this.ref.table)) ?? {}));
    assertLineageNames(this.qualified, configured.formatVersion ?? 2, layout.schema.fields);
    // By position only with a primary key: a key of every column (REPLICA IDENTITY FULL) changes with the columns.
    const byPosition = layout.mode === 'upsert' && settings.upsertDeletes === 'position' && this.deps.keyIndex !== undefined && (layout.schema['identifier-field-ids']?.length ?? 0) > 0;
    const created = await this.deps.tables.create(
      id,
      { ...layout.schema, 'schema-id': 0 },
      { ...configured.properties, 'philotes.mode': layout.mode, ...(byPosition ? { [DELETES_PROPERTY]: BY_POSITION } : {}), ...sourceProperties(this.ref) },
      layout.partitioning,
      configured.formatVersion,
    );
    // Another writer may have created it first, or another source table that maps to the same name.
    this.table = this.owned(id, created);
    this.deps.log.info('created the Iceberg table', { table: `${id.namespace}.${id.name}`, mode: layout.mode, deletes: deletesByPosition(created.metadata) ? 'position' : 'equality' });
    await this.ensureKeyIndex();
    return true;
  }

  /** The key index when this table deletes by position (or is converted to it now); undefined when it deletes by equality. */
  private keyIndexOf(table: LoadedTable): KeyIndex | undefined {
    if (table.metadata.properties['philotes.mode'] !== 'upsert') return undefined;
    if (!deletesByPosition(table.metadata) && !this.converts(table)) return undefined;
    if (!this.deps.keyIndex) throw new Error(`table ${this.qualified} deletes by position, and this writer was given no key index`);
    return this.deps.keyIndex;
  }

  /**
   * The key index, built first for a table this commit converts: the setting may have been
   * turned on while this writer held the table, after the load that builds it (an index that was
   * never built would miss every key and leave the old rows undeleted).
   */
  private async readyKeyIndex(table: LoadedTable): Promise<KeyIndex | undefined> {
    const index = this.keyIndexOf(table);
    if (index && !deletesByPosition(table.metadata)) await this.ensureKeyIndex();
    return index;
  }

  /**
   * An equality-delete table that its next commit switches to position deletes: asked for, and
   * it has a primary key. Its index is built from its files (equality deletes applied) when it is
   * loaded, and the commit records the property; compaction then applies and removes the
   * equality deletes as it rewrites the files they hit.
   */
  private converts(table: LoadedTable): boolean {
    return this.deps.settings().convertEqualityDeletes && this.deps.keyIndex !== undefined && !deletesByPosition(table.metadata) && (currentSchema(table.metadata)['identifier-field-ids']?.length ?? 0) > 0;
  }

  /**
   * A table deleting by position needs an index of its current snapshot: one that describes
   * another (a commit by another engine, an index lost) is rebuilt from the table's files, in a
   * transaction that holds this writer's position (no other writer commits the table meanwhile).
   */
  private async ensureKeyIndex(): Promise<void> {
    const table = this.table!;
    const index = this.keyIndexOf(table);
    if (!index || (await index.snapshot(this.ref.tableId)) === snapshotOf(table.metadata)) return;
    const started = performance.now();
    const position = await this.deps.buffer.position(this.ref.tableId);
    const keyFields = keyFieldsOf(currentSchema(table.metadata));
    const rebuilt = await this.deps.buffer.commit(async (tx) => {
      if (!(await tx.confirm(this.ref.tableId, position))) throw new StalePositionError(this.qualified);
      return rebuildKeyIndex(index, this.deps.tables, table.metadata, keyFields, this.ref.tableId, tx.unit);
    });
    // A key in two files is placed once: the index's size tells how many keys were held twice.
    const duplicates = rebuilt.duplicates + Math.max(0, rebuilt.keys - (await index.size(this.ref.tableId)));
    if (duplicates > 0) this.deps.log.warn('the table holds keys twice: its key index places each at the row read last', { table: this.qualified, duplicates });
    this.deps.log.info('built the key index from the table\'s files', { table: this.qualified, keyCount: rebuilt.keys, ms: Math.round(performance.now() - started) });
  }

  /** The table, when it mirrors this source table; otherwise the table is refused (never merged). */
  private owned(id: TableIdentifier, table: LoadedTable): LoadedTable {
    const problem = ownershipProblem(table.metadata, this.ref);
    if (problem) throw new TableOwnershipError(this.ref, id, problem);
    return table;
  }

  private layoutFor(first: Pick<DecodedEvent, 'columns'>, settings: WriterSettings): TableLayout {
    const table = this.table;
    const mode = (table?.metadata.properties['philotes.mode'] as TableMode | undefined) ?? modeFor(this.qualified, first.columns, settings.mode, settings.tableModes);
    const configured = settings.partitioning.get(partitioningKey(this.ref.schema, this.ref.table));
    return planLayout({
      table: this.qualified,
      columns: first.columns,
      mode,
      ...(table ? { current: currentSchema(table.metadata), currentPartitioning: partitionRequestsOf(defaultSpec(table.metadata)) } : {}),
      lastColumnId: table?.metadata['last-column-id'] ?? 0,
      asText: new Set(first.columns.map((c) => c.name).filter((name) => settings.textColumns.has(`${this.qualified}.${name}`))),
      unrepresentable: settings.unrepresentable,
      ...(configured ? { partitioning: configured } : {}),
    });
  }

  /**
   * Folds pages of changes into one batch: all of one schema version, up to the target file size
   * (estimated) or the row cap. Poison values throw until their attempts are spent, then go along
   * as dead letters.
   */
  private async assemble(first: StoredEvent[], layout: TableLayout, settings: WriterSettings): Promise<{ batch: AssembledBatch; more: boolean }> {
    const assembler = new BatchAssembler(layout);
    const skipPoison = this.poisonAttempts + 1 >= settings.maxAttempts;
    const version = first[0].schemaVersion;
    let page = first;
    let bytes = 0;
    let rows = 0;
    const { targetFileSize } = this.writeLayout(layout);
    for (;;) {
      // The next page is fetched while this one is folded: the database works on it meanwhile.
      // Full by count or by bytes (a page that ends short of its byte bound is the buffer's end).
      const full = page.length >= settings.batchSize || pageBytes(page) >= settings.readBytes / 2;
      const next = full ? this.deps.buffer.storedAfter(this.ref.tableId, page[page.length - 1].position, settings.batchSize, settings.readBytes) : undefined;
      next?.catch(() => undefined); // not awaited when the batch ends within this page
      for (const stored of page) {
        // A copy starts a commit of its own (applyCopy): end this batch before it.
        if (stored.schemaVersion !== version || fillsCommit(rows, bytes, targetFileSize) || (rows > 0 && isCopyStart(stored))) {
          return { batch: assembler.result(), more: true };
        }
        // Decoded here, one at a time, so the decoded values die young (see storedAfter).
        const change = this.deps.buffer.decodeStored(stored);
        try {
          assembler.add(change, skipPoison);
        } catch (error) {
          if (!(error instanceof PoisonValueError)) throw error;
          this.poisonAttempts++;
          throw new PoisonRetryError(this.qualified, error, this.poisonAttempts);
        }
        bytes += change.payload.length;
        rows++;
      }
      if (!next) return { batch: assembler.result(), more: false };
      page = await next;
      if (page.length === 0) return { batch: assembler.result(), more: false };
    }
  }

  /** Applies a copy (its TRUNCATE and all its rows) in one commit; see {@link foldCopyRun}. */
  private async applyCopy(page: StoredEvent[], layout: TableLayout, settings: WriterSettings, open: readonly OpenDeadLetter[]): Promise<StepOutcome> {
    // Only a finished copy: its rows are all in the buffer (the reader's finish wakes us).
    if (!copyFinished(await this.deps.buffer.copyState(this.ref.tableId))) {
      this.deps.log.debug('waiting for the reader to finish copying the table', { table: this.qualified });
      return 'idle';
    }
    const readStarted = performance.now();
    const write = this.writeLayout(layout);
    const placed = this.keyIndexOf(this.table!) ? new PlacedFiles(keyIndexesOf(layout.schema.fields, layout.keyFields)) : undefined;
    let run;
    try {
      run = await foldCopyRun(page, layout, {
        next: (after) => this.deps.buffer.storedAfter(this.ref.tableId, after.position, settings.batchSize, settings.readBytes),
        decode: (stored) => this.deps.buffer.decodeStored(stored),
        writeFile: (batch) => this.writeFiles(layout, write, FileContent.Data, batch.fields, batch.rows, undefined, placed),
        targetFileSize: write.targetFileSize,
        skipPoison: this.poisonAttempts + 1 >= settings.maxAttempts,
        table: this.qualified,
      });
    } catch (error) {
      if (!(error instanceof PoisonValueError)) throw error;
      this.poisonAttempts++;
      throw new PoisonRetryError(this.qualified, error, this.poisonAttempts);
    }
    this.readMs = performance.now() - readStarted;
    await this.commit(layout, run.batch, { open, files: run.files, copy: { marker: page[0], rows: run.batch.count - 1 }, ...(placed ? { placed } : {}) });
    this.deps.log.info('applied a copy of the table', { table: this.qualified, rowsCopied: run.batch.count - 1, files: run.files.length });
    return run.more ? 'more' : 'idle';
  }

  private async resolveToast(batch: AssembledBatch): Promise<AssembledBatch> {
    if (batch.pendingToast.length === 0) return batch;
    const wanted = new Map(batch.pendingToast.map((p) => [p.key, p.keyValues] as const));
    const keyIndex = await this.readyKeyIndex(this.table!);
    const found = keyIndex ? await keyedRows(keyIndex, this.deps.tables, this.ref.tableId, batch.fields, wanted) : await currentRows(this.deps.tables, this.table!, batch.fields, batch.keyFields, wanted);
    this.deps.log.debug('looked up unchanged TOAST values in the table', { table: this.qualified, keys: wanted.size, found: found.size });
    return resolveToast(batch, found);
  }

  private async commit(layout: TableLayout, batch: AssembledBatch, extras: CommitExtras): Promise<void> {
    const { faults, metrics, tables } = this.deps;
    const { replay } = extras;
    // A replay leaves the position where it is; a normal commit moves it to the batch's last event.
    const next = replay ? this.position! : batch.last;
    const base = this.table!;
    const location = base.metadata.location;
    const started = process.hrtime.bigint();
    const write = this.writeLayout(layout);
    const dataFiles: DataFile[] = [...(extras.files ?? [])];
    const deleteFiles: DataFile[] = [];
    const keyIndex = await this.readyKeyIndex(base);
    const placed = extras.placed ?? (keyIndex ? new PlacedFiles(keyIndexesOf(batch.fields, batch.keyFields)) : undefined);
    // One file per partition; deletes too, in the partition of the rows they remove (their key holds its source columns).
    dataFiles.push(...(await this.writeFiles(layout, write, FileContent.Data, batch.fields, batch.rows, undefined, placed)));
    let keyed: KeyedDeletes | undefined;
    if (keyIndex) {
      // A commit that upgrades the table writes what its new version allows (deletion vectors from v3 on).
      const target = { ...base.metadata, 'format-version': write.formatVersion ?? base.metadata['format-version'] };
      keyed = await keyedDeletes({ index: keyIndex, store: tables.store }, this.ref.tableId, target, () => tables.liveFiles(base.metadata), { truncated: batch.truncated, deletes: batch.deletes, keyCount: batch.keyFields.length }, placed!, { ...write.options, onLevelFallback: this.levelFallback });
      deleteFiles.push(...keyed.deleteFiles);
    } else {
      deleteFiles.push(...(await this.writeFiles(layout, write, FileContent.EqualityDeletes, batch.keyFields, batch.deletes, batch.keyFields.map((f) => f.id))));
    }
    const filesMs = Number(process.hrtime.bigint() - started) / 1e6;
    faults.hit('writer.after-data-files');

    const touchesTable = dataFiles.length + deleteFiles.length > 0 || batch.truncated || layout.changed;
    let change: TableChange = {
      operation: batch.truncated || deleteFiles.length > 0 ? 'overwrite' : 'append',
      addedDataFiles: dataFiles,
      addedDeleteFiles: deleteFiles,
      removeAllFiles: batch.truncated,
      // A data file's earlier deletion vector, which its new one holds and replaces.
      ...(keyed && keyed.removedEntries.length > 0 ? { removedEntries: keyed.removedEntries } : {}),
      ...(layout.changed ? { schema: layout.schema } : {}),
      // Recorded in the same snapshot commit as the files written by them.
      ...(write.properties ? { properties: write.properties } : {}),
      ...(write.sortOrder ? { sortOrder: write.sortOrder } : {}),
      // The upgrade rides on the table's next commit, like its other metadata changes.
      ...(write.formatVersion ? { formatVersion: write.formatVersion } : {}),
      partitioning: layout.partitioning,
      summary: {
        'philotes.source-lsn': formatLsn(next.lsn),
        'philotes.source-seq': String(next.seq),
        'philotes.source': this.ref.sourceId,
        ...(replay ? { 'philotes.replayed-events': String(replay.outcomes.length) } : {}),
      },
    };
    if (keyed && touchesTable && !deletesByPosition(base.metadata)) {
      // The conversion's commit: from here on the table says how it deletes.
      change = { ...change, properties: { ...(change.properties ?? base.metadata.properties), [DELETES_PROPERTY]: BY_POSITION } };
      this.deps.log.info('the table deletes by position from this commit on (its equality deletes stay until compaction applies them)', { table: this.qualified });
    }
    const prepared = touchesTable ? await tables.prepare(base, change, { afterManifests: () => faults.hit('writer.after-manifests') }) : undefined;
    faults.hit('writer.after-metadata');

    try {
      await this.deps.buffer.commit(async (tx) => {
        faults.hit('writer.before-swap');
        if (extras.copy && !(await tx.copyIsWhole(this.ref.tableId, extras.copy.marker, extras.copy.rows))) {
          throw new CopyChangedError(this.qualified, 'changed before it was committed');
        }
        if (prepared && !(await tables.publish(base, prepared, tx.unit))) {
          metrics.commitConflicts.inc();
          throw new CommitConflictError(this.qualified);
        }
        // The index moves with the table: the same transaction, or neither.
        if (keyed && prepared) await keyIndex!.apply(this.ref.tableId, { ...keyed.index, snapshotId: snapshotOf(prepared.metadata), baseSnapshotId: snapshotOf(base.metadata) }, tx.unit);
        faults.hit('writer.after-swap');
        const owned = replay
          ? await tx.confirm(this.ref.tableId, this.position!)
          : await tx.advance(this.ref.tableId, this.position!, batch.last, batch.lastCommitTime);
        if (!owned) throw new StalePositionError(this.qualified);
        if (replay) {
          if (!(await tx.settleDeadLetters(replay.outcomes))) throw new CommitConflictError(this.qualified);
          await tx.supersedeDeadLetters(replay.supersede);
        } else {
          await tx.addDeadLetters(
            this.ref.tableId,
            batch.poison.map((p) => ({
              change: p.change,
              kind: p.error.directive.kind,
              message: p.error.message,
              attempts: Math.max(this.poisonAttempts + 1, 1),
              ...(p.key === undefined ? {} : { key: p.key }),
              ...(p.superseded ? { superseded: true } : {}),
            })),
          );
          await tx.supersedeDeadLetters(this.superseded(layout, batch, extras.open));
        }
        faults.hit('writer.after-offset');
      });
    } catch (error) {
      this.reset();
      throw error;
    }
    faults.hit('writer.after-commit');

    if (prepared) {
      this.table = { id: base.id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
      await tables.writeVersionHint(location, prepared.metadataLocation, prepared.metadata).catch((error: unknown) => this.deps.log.warn('could not write version-hint.text', { table: this.qualified, error }));
    }
    this.deps.log.debug('committed', {
      table: this.qualified,
      from: `${formatLsn(this.position!.lsn)}/${this.position!.seq}`,
      to: `${formatLsn(next.lsn)}/${next.seq}`,
      events: batch.count,
      rowsWritten: batch.rows.length,
      deletesWritten: batch.deletes.length,
      ...(keyed ? { deletedByPosition: keyed.hits } : {}),
      ...(prepared ? { sequenceNumber: prepared.metadata['last-sequence-number'] } : {}),
      readMs: Math.round(this.readMs),
      filesMs: Math.round(filesMs),
      totalMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
    });
    this.position = next;
    metrics.commitDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    metrics.rowsWritten.inc({ table: this.qualified, mode: layout.mode }, batch.rows.length + (extras.files ?? []).reduce((n, file) => n + file.recordCount, 0));
    metrics.filesWritten.inc({ content: 'data' }, dataFiles.length);
    metrics.filesWritten.inc({ content: 'deletes' }, deleteFiles.length);
    // A replay's failures go back to pending (counted as replay outcomes), not to new dead letters.
    if (replay) return;
    this.poisonAttempts = 0;
    for (const { error } of batch.poison) metrics.deadLetters.inc({ error_kind: error.directive.kind });
    if (batch.poison.length > 0) {
      this.deps.log.warn('events sent to the dead letters', { table: this.qualified, count: batch.poison.length, reason: batch.poison[0].error.message });
    }
  }

  /** How this table's files are written now: its properties and sort order under the settings. */
  private writeLayout(layout: TableLayout): WriteLayout {
    const settings = this.deps.settings();
    const write = writeLayoutOf(this.table!.metadata, this.ref, settings.tableWrite, settings.targetFileSize, layout.changed ? layout.schema : undefined);
    if (write.downgradeRefused && !this.downgradeSaid) {
      this.downgradeSaid = true;
      this.deps.log.warn('keeping the table\'s format version: an Iceberg table is never downgraded', { table: this.qualified, configured: write.downgradeRefused.asked, kept: write.downgradeRefused.kept });
    }
    return write;
  }

  /**
   * Files of the commit's spec (and, for deletes, older specs with data); see
   * IcebergTables.writeChangeFiles. Deletes an older spec cannot place (it partitions on a column
   * that is no key, as another engine may have set it) stop this table for the operator.
   */
  private async writeFiles(layout: TableLayout, write: WriteLayout, content: FileContent, fields: TableLayout['keyFields'], rows: readonly unknown[][], equalityIds?: number[], placed?: PlacedFiles): Promise<DataFile[]> {
    const change = { ...(layout.changed ? { schema: layout.schema } : {}), partitioning: layout.partitioning };
    try {
      return await this.deps.tables.writeChangeFiles(this.table!, change, content, fields, rows, equalityIds, { ...write.options, onLevelFallback: this.levelFallback, ...(placed ? { onWritten: placed.onWritten } : {}) });
    } catch (error) {
      if (!(error instanceof UnplaceableDeletesError)) throw error;
      throw new PartitioningError(this.qualified, error.message, `resync the table (its files are then written in the current spec), or rewrite its files of spec ${error.specId} into the current spec with another engine, then resume the table`);
    }
  }
}

/** Payload bytes of a page of stored changes. */
function pageBytes(page: readonly StoredEvent[]): number {
  let bytes = 0;
  for (const change of page) bytes += change.payload.length;
  return bytes;
}
