import { Pool } from 'pg';
import { FaultInjector } from '@philotes/faults';
import {
  CommitUnit,
  compact,
  CompactionPlan,
  CompactionPolicy,
  currentSchema,
  IcebergTables,
  LoadedTable,
  orphanFiles,
  partitionGroup,
  planCompaction,
  PreparedCommit,
  reachableFiles,
  rebaseCompaction,
  RowRelocations,
  snapshotsToExpire,
  storeKeyReader,
  TableChange,
  targetFileSizeOf,
} from '@philotes/iceberg';
import { TableBuffer } from '@philotes/buffer';
import { ownershipProblem, TableOwnershipError } from '@philotes/table-mapping';
import { KeyIndex } from './key-index/key-index';
import { deletesByPosition, keyFieldsOf, rowKeyer } from './key-index/keyed-deletes';
import { snapshotOf } from './key-index/rebuild';
import { CommitConflictError, TableWriter, WriterLog } from './table-writer';
import type { TableUpkeep } from './writer-service';
import { WriterMetrics } from './writer-metrics';

export interface UpkeepSettings {
  readonly namespace: string;
  readonly targetFileSize: number;
  readonly compactionMinFiles: number;
  readonly compactionMaxBytes: number;
  readonly snapshotRetentionMs: number;
  readonly orphanGraceMs: number;
}

/**
 * A compaction's rewrite, made beside the table's commits; committed by a later run of the same
 * lease (`by`: a table leased again gets a new TableWriter, and another writer's clean-up may
 * have removed the files meanwhile, so a rewrite from an earlier lease is dropped).
 */
type Rewrite = { readonly by: TableWriter } & (
  | { readonly state: 'running' }
  /** The plan found nothing worth a commit: the next run just forgets it (no poll, no second pass). */
  | { readonly state: 'idle' }
  | {
      readonly state: 'ready';
      readonly planned: LoadedTable;
      readonly plannedLive: ReadonlySet<string>;
      readonly plan: CompactionPlan;
      readonly change: TableChange;
      /** Where the rows went, for a table deleting by position (its key index moves with them). */
      readonly relocations?: RowRelocations;
    }
  | { readonly state: 'failed'; readonly error: unknown }
);

/**
 * Rewrites in flight in one process at most: each holds up to a target file of rows beside the
 * steps' own, so like the steps they are bounded (the scheduler's concurrency does not see them).
 */
const MAX_REWRITES = 1;

/**
 * Keeps an owned table fast to read and its storage bounded. The writer service runs `run` between
 * the table's commits (never with one of the same table at once), so what it does there is short:
 * 1. compaction — small files, and files equality deletes hit, rewritten into target-size files
 *    with the deletes applied, at most compactionMaxBytes of them per run (a run costs what
 *    changed, not the table's size). The rewrite, the long part, runs beside the table's commits:
 *    one run starts it, a later one commits it onto the table as it is then (rebaseCompaction;
 *    the rewritten files keep the sequence number they were planned at, so deletes committed
 *    meanwhile still apply to them), so a commit waits only for that last step;
 * 2. snapshot expiry — snapshots past the retention leave the metadata (the current one and the
 *    last few stay; the current one's summary holds the source position recovery needs);
 * 3. orphan clean-up — files nothing reaches any more (expired snapshots, commits that lost or
 *    crashed), once older than the grace period.
 * Each step commits with the catalog's compare-and-swap; losing it leaves the table as it was.
 */
export class IcebergUpkeep implements TableUpkeep {
  /** By table id: at most one rewrite per table in flight. */
  private readonly rewrites = new Map<number, Rewrite>();

  constructor(
    private readonly deps: {
      readonly pool: Pool;
      readonly tables: IcebergTables;
      readonly settings: () => UpkeepSettings;
      readonly metrics: WriterMetrics;
      readonly faults: FaultInjector;
      readonly log: WriterLog;
      /** The transaction a compaction of a table deleting by position commits in, with its key index's change. */
      readonly buffer: TableBuffer;
      readonly keyIndex?: KeyIndex;
    },
  ) {}

  async run(writer: TableWriter): Promise<void> {
    const settings = this.deps.settings();
    const id = writer.identifier(settings.namespace);
    let table = await this.deps.tables.load(id);
    if (!table) {
      if (this.rewrites.get(writer.ref.tableId)?.state !== 'running') this.rewrites.delete(writer.ref.tableId);
      return;
    }
    // Never compact, expire or clean a table that mirrors another source table.
    const problem = ownershipProblem(table.metadata, writer.ref);
    if (problem) throw new TableOwnershipError(writer.ref, id, problem);
    let rewrite = this.rewrites.get(writer.ref.tableId);
    if (rewrite && rewrite.by !== writer) {
      if (rewrite.state === 'running') return; // let it end before starting another
      this.rewrites.delete(writer.ref.tableId);
      rewrite = undefined;
    }
    // Still rewriting: the table keeps committing, and the next run looks again. Nothing else runs
    // meanwhile: the orphan clean-up must not see the rewrite's files, which nothing reaches yet
    // (and an object store's timestamps are too coarse to tell them apart by age).
    if (rewrite?.state === 'running') return;
    if (rewrite?.state === 'idle') {
      // This run is the poll that saw the plan end: the run that started it did the rest.
      this.rewrites.delete(writer.ref.tableId);
      return;
    }
    if (rewrite) {
      this.rewrites.delete(writer.ref.tableId);
      if (rewrite.state === 'failed') throw rewrite.error;
      const ready = rewrite;
      table = await this.timed('compact', () => this.commitRewrite(writer, table!, ready));
    }
    table = await this.timed('expire', () => this.expire(writer, table!, settings.snapshotRetentionMs));
    await this.timed('remove_orphans', () => this.removeOrphans(writer, table!, settings.orphanGraceMs));
    // The next rewrite starts on the table as it is after this run (one committed here: next run).
    if (!rewrite && this.inFlight() < MAX_REWRITES) {
      const policy = { targetFileSize: targetFileSizeOf(table.metadata.properties, settings.targetFileSize), minFiles: settings.compactionMinFiles, maxBytes: settings.compactionMaxBytes };
      this.startRewrite(writer, table, policy);
    }
  }

  /** A rewrite of this table runs or waits to be committed: the service should run the upkeep again soon. */
  pending(writer: TableWriter): boolean {
    return this.rewrites.get(writer.ref.tableId)?.by === writer;
  }

  private inFlight(): number {
    let running = 0;
    for (const rewrite of this.rewrites.values()) if (rewrite.state === 'running') running++;
    return running;
  }

  /** How long a step holds the table (the writer service runs no commit of it meanwhile). */
  private async timed<T>(action: 'compact' | 'expire' | 'remove_orphans', step: () => Promise<T>): Promise<T> {
    const end = this.deps.metrics.maintenanceDuration.startTimer({ action });
    try {
      return await step();
    } finally {
      end();
    }
  }

  /** Plans and rewrites beside the table's commits (no hold); the outcome waits for the next run. */
  private startRewrite(writer: TableWriter, table: LoadedTable, policy: CompactionPolicy): void {
    const { tables, faults, metrics } = this.deps;
    const id = writer.ref.tableId;
    this.rewrites.set(id, { state: 'running', by: writer });
    const end = metrics.maintenanceDuration.startTimer({ action: 'rewrite' });
    const work = async (): Promise<Rewrite> => {
      const schema = currentSchema(table.metadata);
      const live = await tables.liveFiles(table.metadata);
      const plan = await planCompaction(live, schema.fields, policy, storeKeyReader(tables.store), partitionGroup);
      if (!plan) return { state: 'idle', by: writer };
      const relocations = deletesByPosition(table.metadata) ? new RowRelocations(rowKeyer(schema.fields, keyFieldsOf(schema))) : undefined;
      const change = await compact(tables.store, table, plan, policy.targetFileSize, relocations);
      faults.hit('upkeep.after-rewrite');
      const plannedLive = new Set([...live.data, ...live.deletes].map((e) => e.dataFile.filePath));
      return { state: 'ready', by: writer, planned: table, plannedLive, plan, change, ...(relocations ? { relocations } : {}) };
    };
    void work()
      .then(
        (outcome) => {
          this.deps.log.debug(outcome.state === 'ready' ? 'a compaction rewrite is ready to commit' : 'nothing to compact', { table: writer.qualified });
          this.rewrites.set(id, outcome);
        },
        (error: unknown) => {
          this.rewrites.set(id, { state: 'failed', by: writer, error });
        },
      )
      .finally(end);
  }

  /** The rewrite onto the table as it is now: the short part, which the table's commits wait for. */
  private async commitRewrite(writer: TableWriter, table: LoadedTable, ready: Extract<Rewrite, { state: 'ready' }>): Promise<LoadedTable> {
    const { tables } = this.deps;
    const { plan } = ready;
    const rebased = await rebaseCompaction(tables, ready.change, { table: ready.planned, live: ready.plannedLive }, table, ready.relocations);
    if ('dropped' in rebased) {
      // Its files are orphans now; the clean-up removes them after the grace period.
      this.deps.log.info('dropped a compaction: the table changed under it', { table: writer.qualified, reason: rebased.dropped, filesRewritten: plan.rewrite.length });
      return table;
    }
    const change = rebased.change;
    const relocations = ready.relocations;
    if (!relocations && deletesByPosition(table.metadata)) {
      // Planned before the table converted to position deletes: it kept no record of where its rows went.
      this.deps.log.info('dropped a compaction: the table deletes by position since it was planned', { table: writer.qualified });
      return table;
    }
    if (relocations && (await this.keyIndex().snapshot(writer.ref.tableId)) !== snapshotOf(table.metadata)) {
      // An index behind its table is rebuilt by the writer first; moving it along would call it current.
      this.deps.log.info('dropped a compaction: the table\'s key index describes another snapshot', { table: writer.qualified });
      return table;
    }
    const prepared = await tables.prepare(table, change);
    // The key index follows the rows it names into the rewritten files, in the swap's transaction.
    const committed = relocations
      ? await this.publish(writer, table, prepared, (unit) =>
          this.keyIndex().apply(writer.ref.tableId, { relocated: relocations.runs, droppedFiles: plan.rewrite.map((e) => e.dataFile.filePath), snapshotId: snapshotOf(prepared.metadata), baseSnapshotId: snapshotOf(table.metadata) }, unit),
        )
      : await this.publish(writer, table, prepared);
    this.deps.metrics.maintenance.inc({ action: 'files_compacted' }, plan.rewrite.length + plan.deletes.length);
    this.deps.metrics.compactedBytes.inc(plan.stats.bytes);
    this.deps.log.info('compacted the table', {
      table: writer.qualified,
      filesRewritten: plan.rewrite.length,
      smallFiles: plan.stats.smallFiles,
      hitFiles: plan.stats.hitFiles,
      bytesRewritten: plan.stats.bytes,
      keyFilesRead: plan.stats.filesRead,
      deleteFilesApplied: plan.applied.length,
      deleteFilesRemoved: plan.deletes.length,
      filesWritten: change.addedDataFiles.length,
      ...(rebased.carried > 0 ? { deletesCarried: rebased.carried } : {}),
    });
    return committed;
  }

  private async expire(writer: TableWriter, table: LoadedTable, retentionMs: number): Promise<LoadedTable> {
    const expired = snapshotsToExpire(table.metadata, Date.now(), retentionMs);
    if (expired.size === 0) return table;
    const committed = await this.publish(writer, table, await this.deps.tables.prepareExpiry(table, expired));
    this.deps.metrics.maintenance.inc({ action: 'snapshots_expired' }, expired.size);
    this.deps.log.info('expired snapshots', { table: writer.qualified, snapshots: expired.size });
    return committed;
  }

  private async removeOrphans(writer: TableWriter, table: LoadedTable, graceMs: number): Promise<void> {
    const { store } = this.deps.tables;
    const reachable = await reachableFiles(store, table.metadataLocation, table.metadata);
    const orphans = await orphanFiles(store, table.metadata.location, reachable, Date.now(), graceMs);
    if (orphans.length === 0) return;
    await store.delete(orphans);
    this.deps.metrics.maintenance.inc({ action: 'orphans_deleted' }, orphans.length);
    this.deps.log.info('removed orphan files', { table: writer.qualified, files: orphans.length });
  }

  private keyIndex(): KeyIndex {
    if (!this.deps.keyIndex) throw new Error('a table deleting by position is compacted, and the upkeep was given no key index');
    return this.deps.keyIndex;
  }

  /**
   * The compare-and-swap (with `alongside` in its transaction); the writer forgets its cached
   * table, which is no longer current.
   */
  private async publish(writer: TableWriter, base: LoadedTable, prepared: PreparedCommit, alongside?: (unit: CommitUnit) => Promise<void>): Promise<LoadedTable> {
    const swapped = alongside
      ? await this.deps.buffer.commit(async (tx) => {
          if (!(await this.deps.tables.publish(base, prepared, tx.unit))) return false;
          await alongside(tx.unit);
          return true;
        })
      : await this.deps.tables.publish(base, prepared);
    if (!swapped) {
      this.deps.metrics.commitConflicts.inc();
      throw new CommitConflictError(writer.qualified);
    }
    writer.reset();
    await this.deps.tables
      .writeVersionHint(base.metadata.location, prepared.metadataLocation, prepared.metadata)
      .catch((error: unknown) => this.deps.log.warn('could not write version-hint.text', { table: writer.qualified, error }));
    return { id: base.id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
  }
}
