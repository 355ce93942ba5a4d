import { Gauge, Registry } from 'prom-client';
import { PG_EPOCH_UNIX_MICROS } from '@philotes/pgoutput';
import { LagMonitor, LagMonitorDeps, StreamPosition } from './lag-monitor';
import type { SlotInfo } from './source-catalog';

const slot = (confirmed: bigint | undefined, extra: Partial<SlotInfo> = {}): SlotInfo => ({ plugin: 'pgoutput', database: 'db', active: true, confirmedFlushLsn: confirmed, unusableReason: undefined, safeWalBytes: undefined, ...extra });
/** PostgreSQL-epoch microseconds of a Unix time in ms. */
const pgMicros = (ms: number) => BigInt(ms) * 1000n - PG_EPOCH_UNIX_MICROS;

type Position = Omit<StreamPosition, 'slotLost'>;

function monitorOf(reads: Array<{ current: bigint; slot: SlotInfo | undefined }>, at: Position | undefined, now: { ms: number }) {
  const registers = [new Registry()];
  const metrics = {
    slotActive: new Gauge({ name: 'active', help: 'h', registers }),
    slotSafeWalBytes: new Gauge({ name: 'safe', help: 'h', labelNames: ['slot'], registers }),
    lagBytes: new Gauge({ name: 'bytes', help: 'h', registers }),
    lagSeconds: new Gauge({ name: 'seconds', help: 'h', registers }),
  };
  const warnings: unknown[] = [];
  let lost = 0;
  let next = 0;
  const position = { current: at };
  const deps: LagMonitorDeps = {
    slot: 's',
    read: async () => reads[Math.min(next++, reads.length - 1)],
    position: () => position.current && { ...position.current, slotLost: () => lost++ },
    settings: () => ({ lagWarningBytes: 1000, lagWarningAgeMs: 60_000 }),
    metrics,
    log: { warn: (_message, meta) => warnings.push(meta) },
    now: () => now.ms,
  };
  return { monitor: new LagMonitor(deps), metrics, warnings, lost: () => lost, position };
}

const value = async (gauge: Gauge<string>) => (await gauge.get()).values[0]?.value;

describe('LagMonitor', () => {
  it('measures bytes behind the WAL and seconds since the last stored commit', async () => {
    const now = { ms: 1_800_000_000_000 };
    const { monitor, metrics } = monitorOf([{ current: 5000n, slot: slot(4000n, { safeWalBytes: 77 }) }], { idle: false, lastCommitTime: pgMicros(now.ms - 12_000) }, now);
    await monitor.check();
    expect(monitor.lag).toEqual({ bytes: 1000, seconds: 12 });
    expect([await value(metrics.lagBytes), await value(metrics.lagSeconds), await value(metrics.slotActive), await value(metrics.slotSafeWalBytes)]).toEqual([1000, 12, 1, 77]);
  });

  it('counts an idle source as not behind in time', async () => {
    const now = { ms: 1_800_000_000_000 };
    const { monitor } = monitorOf([{ current: 5000n, slot: slot(5000n) }], { idle: true, lastCommitTime: pgMicros(now.ms - 3_600_000) }, now);
    await monitor.check();
    expect(monitor.lag).toEqual({ bytes: 0, seconds: 0 });
  });

  it('warns above a threshold at most once a minute', async () => {
    const now = { ms: 1_800_000_000_000 };
    const { monitor, warnings } = monitorOf([{ current: 9000n, slot: slot(1000n) }], { idle: false, lastCommitTime: pgMicros(now.ms) }, now);
    await monitor.check();
    now.ms += 30_000;
    await monitor.check();
    now.ms += 31_000;
    await monitor.check();
    expect(warnings).toEqual([
      { lagBytes: 8000, lagSeconds: 0 },
      { lagBytes: 8000, lagSeconds: 61 },
    ]);
  });

  it('ends the session when the slot is gone, and reports nothing without a session', async () => {
    const now = { ms: 1_800_000_000_000 };
    const gone = monitorOf([{ current: 1n, slot: undefined }], { idle: true }, now);
    await gone.monitor.check();
    expect(gone.lost()).toBe(1);
    const none = monitorOf([{ current: 1n, slot: slot(1n) }], undefined, now);
    await none.monitor.check();
    expect(none.monitor.lag).toEqual({});
  });

  it('zeroes what it reported when the reader stops leading', async () => {
    const now = { ms: 1_800_000_000_000 };
    const { monitor, metrics } = monitorOf([{ current: 5000n, slot: slot(1000n, { safeWalBytes: 5 }) }], { idle: false, lastCommitTime: pgMicros(now.ms - 5_000) }, now);
    await monitor.check();
    monitor.clear();
    expect([await value(metrics.lagBytes), await value(metrics.lagSeconds), await value(metrics.slotActive), await value(metrics.slotSafeWalBytes)]).toEqual([0, 0, 0, undefined]);
    expect(monitor.lag).toEqual({});
  });

  it('keeps its once-a-minute warning limit across sessions, and a check under way when the reader stopped reports nothing', async () => {
    const now = { ms: 1_800_000_000_000 };
    const { monitor, warnings, metrics } = monitorOf([{ current: 9000n, slot: slot(1000n) }], { idle: false, lastCommitTime: pgMicros(now.ms) }, now);
    await monitor.check();
    monitor.clear(); // the session ended; the next one starts at once
    now.ms += 5_000;
    await monitor.check();
    expect(warnings).toHaveLength(1);
    // A read in flight while the reader stops leading: its answer is dropped.
    const slow = monitorOf([{ current: 9000n, slot: slot(1000n, { safeWalBytes: 9 }) }], { idle: false, lastCommitTime: pgMicros(now.ms) }, now);
    const checking = slow.monitor.check();
    slow.monitor.clear();
    slow.position.current = undefined;
    await checking;
    expect([await value(slow.metrics.lagBytes), await value(slow.metrics.slotActive), await value(slow.metrics.slotSafeWalBytes)]).toEqual([0, 0, undefined]);
    expect(await value(metrics.lagBytes)).toBe(8000);
  });
});
