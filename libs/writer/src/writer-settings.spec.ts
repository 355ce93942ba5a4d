import { writerSettingsOf, WriterConfig } from './writer-settings';

const config: WriterConfig = {
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
};

describe('writer settings', () => {
  it('writes a table early at half the reader’s high watermark, only when backpressure is on', () => {
    expect(writerSettingsOf(config).eagerBytes).toBe(4_000_000);
    expect(writerSettingsOf({ ...config, backpressureEnabled: false }).eagerBytes).toBe(0);
  });

  it('reads per-table modes and text columns from their lists', () => {
    const settings = writerSettingsOf(config);
    expect([...settings.tableModes]).toEqual([
      ['public.audit', 'append'],
      ['sales.orders', 'upsert'],
    ]);
    expect([...settings.textColumns]).toEqual(['public.orders.amount']);
  });

  it('keeps retrying the connection forever while events get their configured attempts', () => {
    const settings = writerSettingsOf(config);
    expect(settings.maxAttempts).toBe(3);
    expect(settings.backoff.maxAttempts).toBe(Infinity);
    expect(settings.backoff.initialIntervalMs).toBe(1_000);
  });

  it('reads the buffer in pages of at least 20000 events', () => {
    expect(writerSettingsOf(config).batchSize).toBe(20_000);
    expect(writerSettingsOf({ ...config, batchSize: 50_000 }).batchSize).toBe(50_000);
  });
});
