import { parsePartitioning } from '@philotes/config';
import { partitioningKey } from '@philotes/table-mapping';
import { writerConfig } from './writer-fixtures';
import { writerSettingsOf } from './writer-settings';

const config = writerConfig();

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

  it('reads the partitioning per table, keyed by schema and table', () => {
    expect(writerSettingsOf({ ...config, icebergPartitioning: parsePartitioning('public.events=bucket(16,id),day(ts)') }).partitioning.get(partitioningKey('public', 'events'))).toEqual([
      { column: 'id', transform: 'bucket[16]' },
      { column: 'ts', transform: 'day' },
    ]);
    expect(writerSettingsOf({ ...config, icebergPartitioning: parsePartitioning('"a.b".c=') }).partitioning.get(partitioningKey('a.b', 'c'))).toEqual([]);
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
