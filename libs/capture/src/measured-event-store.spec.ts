import { Registry } from 'prom-client';
import { MemoryBuffer } from '@philotes/buffer';
import { MetricName } from '@philotes/metrics';
import { measuredEventStore } from './measured-event-store';
import { ReaderMetrics } from './reader-metrics';

const event = (seq: number) => ({ tableId: 1, commitLsn: 0x100n, seq, op: 'I', xid: 7, commitTime: 0n, schemaVersion: 1, payload: Buffer.from([seq]) }) as never;

async function value(registry: Registry, name: string, field: 'count' | 'value' = 'value'): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
  const row = field === 'count' ? metric.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count')) : metric.values[0];
  return Number(row?.value ?? 0);
}

describe('measuredEventStore', () => {
  it('times each stream commit and counts the events it stored; a failed commit counts nothing', async () => {
    const registry = new Registry();
    const metrics = new ReaderMetrics(registry);
    const buffer = new MemoryBuffer();
    const store = measuredEventStore(buffer.eventStore, metrics);

    await store.commit('src', [event(1), event(2)], { confirmedLsn: 0x100n });
    buffer.failNextCommit = new Error('Connection terminated');
    await expect(store.commit('src', [event(3)], { confirmedLsn: 0x200n })).rejects.toThrow('Connection terminated');
    await store.commit('src', [event(4)], { confirmedLsn: 0x300n });

    expect(buffer.events).toHaveLength(3);
    expect(await value(registry, MetricName.CdcEventsWritten)).toBe(3);
    expect(await value(registry, MetricName.CdcBatchFlushDuration, 'count')).toBe(2);
  });

  it('passes a copy through uncounted: copied rows are counted by the copy', async () => {
    const registry = new Registry();
    const buffer = new MemoryBuffer();
    const store = measuredEventStore(buffer.eventStore, new ReaderMetrics(registry));
    await store.commitCopy('src', 1, 1, [event(1)], 1);
    expect(buffer.events).toHaveLength(1);
    expect(await value(registry, MetricName.CdcEventsWritten)).toBe(0);
    expect(await value(registry, MetricName.CdcBatchFlushDuration, 'count')).toBe(0);
  });
});
