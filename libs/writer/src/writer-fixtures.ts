import { WriterConfig } from './writer-settings';

/** The writer's settings as the config would give them, for tests (every PHILOTES_* the writer reads). */
export function writerConfig(over: Partial<WriterConfig> = {}): WriterConfig {
  return {
    batchSize: 1_000,
    flushIntervalMs: 5_000,
    dlqEnabled: true,
    retryMaxAttempts: 3,
    retryInitialIntervalMs: 1_000,
    retryMaxIntervalMs: 30_000,
    retryMultiplier: 2,
    retryJitter: 0.2,
    icebergNamespace: '{schema}',
    icebergMode: 'auto',
    icebergTableModes: ['public.audit=append', 'sales.orders=upsert'],
    icebergColumnTypes: ['public.orders.amount=string'],
    icebergUnrepresentable: 'reject',
    icebergTargetFileSize: 64 * 1024 * 1024,
    icebergWriteConcurrency: 2,
    icebergMaintenanceIntervalMs: 600_000,
    icebergCompactionMinFiles: 16,
    icebergSnapshotRetentionMs: 86_400_000,
    icebergOrphanGraceMs: 3_600_000,
    bufferRetentionMs: 604_800_000,
    bufferPartitionIntervalMs: 86_400_000,
    bufferCleanupIntervalMs: 3_600_000,
    backpressureEnabled: true,
    backpressureHighBytes: 8_000_000,
    icebergReadBytes: 16 * 1024 * 1024,
    tcpUserTimeoutMs: 30_000,
      ...over,
  };
}
