import { Pool } from 'pg';
import { FaultInjector } from '@philotes/faults';
import {
  compact,
  CompactionPolicy,
  currentSchema,
  IcebergTables,
  LoadedTable,
  orphanFiles,
  partitionGroup,
  planCompaction,
  PreparedCommit,
  reachableFiles,
  snapshotsToExpire,
  storeKeyReader,
  targetFileSizeOf,
} from '@philotes/iceberg';
import { ownershipProblem, TableOwnershipError } from '@philotes/table-mapping';
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
 * Keeps an owned table fast to read and its storage bounded, between the table's commits (the
 * writer service never runs this and a commit of the same table at once):
 * 1. compaction — small files, and files equality deletes hit, rewritten into target-size files
 *    with the deletes applied, at most compactionMaxBytes of them per run (a run costs what
 *    changed, not the table's size; its time is how long the table's next commit waits);
 * 2. snapshot expiry — snapshots past the retention leave the metadata (the current one and the
 *    last few stay; the current one's summary holds the source position recovery needs);
 * 3. orphan clean-up — files nothing reaches any more (expired snapshots, commits that lost or
 *    crashed), once older than the grace period.
 * Each step commits with the catalog's compare-and-swap; losing it leaves the table as it was.
 */
export class IcebergUpkeep implements TableUpkeep {
  constructor(
    private readonly deps: {
      readonly pool: Pool;
      readonly tables: IcebergTables;
      readonly settings: () => UpkeepSettings;
      readonly metrics: WriterMetrics;
      readonly faults: FaultInjector;
      readonly log: WriterLog;
    },
  ) {}

  async run(writer: TableWriter): Promise<void> {
    const settings = this.deps.settings();
    const id = writer.identifier(settings.namespace);
    let table = await this.deps.tables.load(id);
    if (!table) return;
    // Never compact, expire or clean a table that mirrors another source table.
    const problem = ownershipProblem(table.metadata, writer.ref);
    if (problem) throw new TableOwnershipError(writer.ref, id, problem);
    const policy = { targetFileSize: targetFileSizeOf(table.metadata.properties, settings.targetFileSize), minFiles: settings.compactionMinFiles, maxBytes: settings.compactionMaxBytes };
    table = await this.timed('compact', () => this.compact(writer, table!, policy));
    table = await this.timed('expire', () => this.expire(writer, table!, settings.snapshotRetentionMs));
    await this.timed('remove_orphans', () => this.removeOrphans(writer, table!, settings.orphanGraceMs));
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

  private async compact(writer: TableWriter, table: LoadedTable, policy: CompactionPolicy): Promise<LoadedTable> {
    const { tables, faults } = this.deps;
    const schema = currentSchema(table.metadata);
    const plan = await planCompaction(await tables.liveFiles(table.metadata), schema.fields, policy, storeKeyReader(tables.store), partitionGroup);
    if (!plan) return table;
    const change = await compact(tables.store, table, plan, policy.targetFileSize);
    faults.hit('upkeep.after-rewrite');
    const prepared = await tables.prepare(table, change);
    const committed = await this.publish(writer, table, prepared);
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

  /** The compare-and-swap; the writer forgets its cached table, which is no longer current. */
  private async publish(writer: TableWriter, base: LoadedTable, prepared: PreparedCommit): Promise<LoadedTable> {
    if (!(await this.deps.tables.publish(base, prepared))) {
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
