import { backoffPolicyOf } from '@philotes/retry';
import { SortColumn } from '@philotes/iceberg';
import { ConfiguredPartitionField, partitioningKey, TableMode, Unrepresentable } from '@philotes/table-mapping';
import { WriterServiceSettings } from './writer-service';
import { UpsertDeletes } from './table-writer';
import { globalWriteProperties, tableKey } from './table-write-layout';

/** The PHILOTES_* settings the writer reads (structural, so the sink does not depend on config). */
export interface WriterConfig {
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly dlqEnabled: boolean;
  readonly retryMaxAttempts: number;
  readonly retryInitialIntervalMs: number;
  readonly retryMaxIntervalMs: number;
  readonly retryMultiplier: number;
  readonly retryJitter: number;
  readonly icebergNamespace: string;
  readonly icebergMode: 'auto' | TableMode;
  readonly icebergTableModes: readonly string[];
  readonly icebergColumnTypes: readonly string[];
  /** Validated at load (see PartitioningRule); parsed again here. */
  /** Parsed by the config: each table's partition fields, transforms as Iceberg writes them. */
  readonly icebergPartitioning: ReadonlyArray<{ readonly schema: string; readonly table: string; readonly fields: readonly ConfiguredPartitionField[] }>;
  readonly icebergUnrepresentable: Unrepresentable;
  readonly icebergUpsertDeletes: UpsertDeletes;
  readonly icebergConvertEqualityDeletes: boolean;
  readonly icebergTargetFileSize: number;
  readonly icebergParquetCompression?: string;
  readonly icebergParquetRowGroupSize?: number;
  readonly icebergParquetPageSize?: number;
  readonly icebergFormatVersion?: number;
  readonly icebergTableProperties: ReadonlyArray<{ readonly schema: string; readonly table: string; readonly properties: Readonly<Record<string, string>> }>;
  readonly icebergSortOrder: ReadonlyArray<{ readonly schema: string; readonly table: string; readonly fields: readonly SortColumn[] }>;
  readonly icebergReadBytes: number;
  readonly icebergWriteConcurrency: number;
  readonly icebergMaintenanceIntervalMs: number;
  readonly icebergCompactionMinFiles: number;
  readonly icebergCompactionMaxBytes: number;
  readonly icebergSnapshotRetentionMs: number;
  readonly icebergOrphanGraceMs: number;
  readonly bufferRetentionMs: number;
  readonly bufferPartitionIntervalMs: number;
  readonly bufferCleanupIntervalMs: number;
  readonly backpressureEnabled: boolean;
  readonly backpressureHighBytes: number;
  readonly tcpUserTimeoutMs: number;
}

/** Derived once per (re)load: the writer reads these on every step, so they must be cheap. */
export function writerSettingsOf(config: WriterConfig): WriterServiceSettings {
  const tableModes = new Map<string, TableMode>();
  for (const entry of config.icebergTableModes) {
    const [table, mode] = entry.split('=');
    tableModes.set(table, mode as TableMode);
  }
  const textColumns = new Set(config.icebergColumnTypes.map((entry) => entry.split('=')[0]));
  const partitioning = new Map<string, readonly ConfiguredPartitionField[]>(config.icebergPartitioning.map((entry) => [partitioningKey(entry.schema, entry.table), entry.fields]));
  return {
    // Pages of the buffer read per query (one table): measured best around 20k events.
    batchSize: Math.max(config.batchSize, 20_000),
    readBytes: config.icebergReadBytes,
    targetFileSize: config.icebergTargetFileSize,
    maxAttempts: config.retryMaxAttempts,
    deadLettersEnabled: config.dlqEnabled,
    namespace: config.icebergNamespace,
    mode: config.icebergMode,
    tableModes,
    textColumns,
    partitioning,
    unrepresentable: config.icebergUnrepresentable,
    upsertDeletes: config.icebergUpsertDeletes,
    convertEqualityDeletes: config.icebergUpsertDeletes === 'position' && config.icebergConvertEqualityDeletes,
    tableWrite: {
      globalProperties: globalWriteProperties(config),
      tableProperties: new Map(config.icebergTableProperties.map((e) => [tableKey(e.schema, e.table), e.properties])),
      sortOrders: new Map(config.icebergSortOrder.map((e) => [tableKey(e.schema, e.table), e.fields])),
    },
    flushIntervalMs: config.flushIntervalMs,
    // The reader stops at the high watermark of unapplied bytes: write before it gets there, or a
    // paused reader would wait for the flush interval with every batch.
    eagerBytes: config.backpressureEnabled ? Math.max(1, Math.floor(config.backpressureHighBytes / 2)) : 0,
    concurrency: config.icebergWriteConcurrency,
    backoff: { ...backoffPolicyOf(config), maxAttempts: Infinity },
    maintenanceIntervalMs: config.icebergMaintenanceIntervalMs,
    deadPeerTimeoutMs: config.tcpUserTimeoutMs,
    compactionMinFiles: config.icebergCompactionMinFiles,
    compactionMaxBytes: config.icebergCompactionMaxBytes,
    snapshotRetentionMs: config.icebergSnapshotRetentionMs,
    orphanGraceMs: config.icebergOrphanGraceMs,
    bufferRetentionMs: config.bufferRetentionMs,
    bufferPartitionIntervalMs: config.bufferPartitionIntervalMs,
    bufferCleanupIntervalMs: config.bufferCleanupIntervalMs,
  };
}
