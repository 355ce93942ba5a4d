import { Gauge, Registry } from 'prom-client';
import type { SourceBacklog } from '@philotes/buffer';
import { BackpressureMonitor, BackpressureMonitorSettings } from './backpressure-monitor';

const MB = 1024 * 1024;
const settings: BackpressureMonitorSettings = { backpressureEnabled: true, backpressureHighBytes: 256 * MB, backpressureLowBytes: 128 * MB, backpressureStoppedTableMaxBytes: 4096 * MB };

function monitorOf(backlogs: Array<SourceBacklog | Error>, overrides: Partial<BackpressureMonitorSettings> = {}) {
  const changes: Array<string | undefined> = [];
  const log: Array<[string, string]> = [];
  // Real gauges, unregistered names aside (the metrics barrel brings Nest, which unit tests leave out).
  const registers = [new Registry()];
  const metrics = {
    bufferUnappliedBytes: new Gauge({ name: 'unapplied', help: 'h', registers }),
    stoppedTableBacklog: new Gauge({ name: 'stopped', help: 'h', labelNames: ['table', 'stopped_by'], registers }),
    stoppedTablesOverLimit: new Gauge({ name: 'over', help: 'h', registers }),
  };
  let next = 0;
  const monitor = new BackpressureMonitor({
    backlog: async () => {
      const backlog = backlogs[next++];
      if (backlog instanceof Error) throw backlog;
      return backlog;
    },
    settings: () => ({ ...settings, ...overrides }),
    metrics,
    log: { warn: (message) => log.push(['warn', message]), info: (message) => log.push(['info', message]) },
    onChange: (reason) => changes.push(reason),
  });
  return { monitor, changes, log, metrics };
}

const flowing = (bytes: number, stopped: SourceBacklog['stopped'] = []): SourceBacklog => ({ flowingBytes: bytes, stopped });
const paused = (tableId: number, bytes: number) => ({ tableId, schema: 'public', table: `t${tableId}`, stoppedBy: 'paused' as const, backlogBytes: bytes });

describe('BackpressureMonitor', () => {
  it('holds above the high mark, keeps holding down to the low mark, and releases below it, telling each change once', async () => {
    const { monitor, changes } = monitorOf([flowing(100 * MB), flowing(300 * MB), flowing(200 * MB), flowing(130 * MB), flowing(120 * MB), flowing(100 * MB)]);
    const held: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      await monitor.check();
      held.push(monitor.reason !== undefined);
    }
    expect(held).toEqual([false, true, true, true, false, false]);
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatch(/above the high watermark/);
    expect(changes[1]).toBeUndefined();
  });

  it('never holds when backpressure is off, and lets go of a hold when it is turned off', async () => {
    const { monitor, changes } = monitorOf([flowing(300 * MB), flowing(300 * MB)]);
    await monitor.check();
    expect(monitor.reason).toBeDefined();
    const off = monitorOf([flowing(300 * MB)], { backpressureEnabled: false });
    await off.monitor.check();
    expect(off.monitor.reason).toBeUndefined();
    expect(off.changes).toEqual([]);
    expect(changes).toHaveLength(1);
  });

  it('leaves paused tables out of the hold, counts those over their limit, and logs each crossing once each way', async () => {
    const { monitor, changes, log, metrics } = monitorOf([flowing(0, [paused(1, 5000 * MB)]), flowing(0, [paused(1, 5000 * MB), paused(2, 10)]), flowing(0, [paused(2, 10)])]);
    await monitor.check();
    await monitor.check();
    expect((await metrics.stoppedTablesOverLimit.get()).values[0].value).toBe(1);
    await monitor.check();
    expect(changes).toEqual([]);
    expect(log).toEqual([
      ['warn', expect.stringMatching(/piled up more than its limit/)],
      ['info', 'a stopped table is back under its backlog limit'],
    ]);
    expect((await metrics.stoppedTablesOverLimit.get()).values[0].value).toBe(0);
    expect((await metrics.stoppedTableBacklog.get()).values.map((v) => v.labels.table)).toEqual(['public.t2']);
  });

  it('keeps its hold when the backlog cannot be read', async () => {
    const { monitor, changes, log } = monitorOf([flowing(300 * MB), new Error('connection refused')]);
    await monitor.check();
    await monitor.check();
    expect(monitor.reason).toBeDefined();
    expect(changes).toHaveLength(1);
    expect(log).toEqual([['warn', 'could not measure the buffer backlog']]);
  });
});
