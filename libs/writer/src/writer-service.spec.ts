import { Registry } from 'prom-client';
import { TableAvailability, TableFailure, TableRef } from '@philotes/buffer';
import { ClassifiedError, needsOperator } from '@philotes/retry';
import { LeaseView } from './lease-connection';
import { WriterMetrics } from './writer-metrics';
import { Leases, StepWriter, TableUpkeep, WriterBuffer, WriterService } from './writer-service';
import { writerConfig } from './writer-fixtures';
import { writerSettingsOf } from './writer-settings';

/**
 * WriterService with its buffer, leases and table writers in memory. Real: the service's loop,
 * scheduling, lease sharing (planShare) and failure handling (afterFailure).
 */

// Fast retries, two attempts: a failing table gives up within milliseconds.
const config = writerConfig({ retryMaxAttempts: 2, retryInitialIntervalMs: 1, retryMaxIntervalMs: 4, retryJitter: 0, icebergMaintenanceIntervalMs: 3_600_000, backpressureEnabled: false, icebergTableModes: [], icebergColumnTypes: [] });

const ref = (tableId: number): TableRef => ({ tableId, sourceId: 'src', schema: 'public', table: `t${tableId}` });

/** The buffer's tables and the other writers' leases, as the test sets them. */
class World implements WriterBuffer {
  writable: TableRef[] = [];
  /** Leases held by other writers: table id → their pid. */
  readonly others = new Map<number, number>();
  otherWriters = 0;
  readonly mine = new Set<number>();
  readonly released: number[] = [];
  readonly failures: Array<{ tableId: number; failure: TableFailure }> = [];

  async openLeases(): Promise<Leases> {
    return {
      failure: undefined,
      view: async (): Promise<LeaseView> => {
        const holders = new Map(this.others);
        for (const id of this.mine) holders.set(id, 1);
        return { holders, liveWriters: this.otherWriters + 1, pid: 1 };
      },
      tryLease: async (tableId) => {
        if (this.others.has(tableId)) return false;
        this.mine.add(tableId);
        return true;
      },
      release: async (tableId) => {
        this.mine.delete(tableId);
        this.released.push(tableId);
      },
      close: async () => this.mine.clear(),
    };
  }
  async writableTables(): Promise<TableAvailability> {
    return { writable: this.writable, paused: [], failed: [] };
  }
  async tableLag(tableIds: readonly number[]): Promise<Map<number, number>> {
    return new Map(tableIds.map((id) => [id, 0]));
  }
  async recordTableFailure(tableId: number, failure: TableFailure): Promise<boolean> {
    this.failures.push({ tableId, failure });
    this.writable = this.writable.filter((t) => t.tableId !== tableId);
    return true;
  }
}

class FakeWriter implements StepWriter {
  steps = 0;
  resets = 0;
  readonly qualified: string;
  readonly lastStepPosition = undefined;
  constructor(
    readonly ref: TableRef,
    private readonly behaviour: (step: number) => 'more' | 'idle',
  ) {
    this.qualified = `${ref.schema}.${ref.table}`;
  }
  async step(): Promise<'more' | 'idle'> {
    // A real step reads the buffer: it yields to the event loop before it answers.
    await new Promise((resolve) => setImmediate(resolve));
    return this.behaviour(++this.steps);
  }
  reset(): void {
    this.resets++;
  }
}

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: () => undefined };

function serviceOf(world: World, behaviour: (ref: TableRef) => (step: number) => 'more' | 'idle', options: { upkeep?: TableUpkeep<FakeWriter>; maintenanceIntervalMs?: number } = {}) {
  const writers = new Map<number, FakeWriter>();
  const settings = writerSettingsOf(options.maintenanceIntervalMs === undefined ? config : { ...config, icebergMaintenanceIntervalMs: options.maintenanceIntervalMs });
  const service = new WriterService<FakeWriter>({
    ...(options.upkeep ? { upkeep: options.upkeep } : {}),
    buffer: world,
    tableWriter: (table) => {
      const writer = new FakeWriter(table, behaviour(table));
      writers.set(table.tableId, writer);
      return writer;
    },
    progress: { load: async () => ({ lsn: 0n, seq: 0 }) },
    settings: () => settings,
    metrics: new WriterMetrics(new Registry()),
    log: quiet,
  });
  return { service, writers };
}

// A rebalance runs every second: these tests wait for one or two, with room for a loaded machine.
jest.setTimeout(30_000);

async function until(what: string, condition: () => boolean, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('WriterService', () => {
  it('takes its fair share of the tables a lease is free for, and steps each it took', async () => {
    const world = new World();
    world.writable = [1, 2, 3, 4].map(ref);
    world.otherWriters = 1;
    world.others.set(3, 99);
    const { service, writers } = serviceOf(world, () => () => 'idle');
    service.start();
    try {
      await until('two tables taken and stepped', () => world.mine.size === 2 && [...writers.values()].every((w) => w.steps > 0));
      // Two of the three free tables (the fourth is another writer's), whichever planShare chose.
      expect(world.mine.has(3)).toBe(false);
      expect(service.details()).toMatchObject({ tables: [...world.mine].sort().map((id) => `public.t${id}`), liveWriters: 2, share: 2 });
      expect([...writers.keys()].sort()).toEqual([...world.mine].sort());
    } finally {
      await service.stop();
    }
  });

  it('gives a table that always has a step due its upkeep anyway, and goes on stepping it', async () => {
    const world = new World();
    world.writable = [ref(1)];
    const upkeeps: number[] = [];
    const upkeep: TableUpkeep<FakeWriter> = { run: async (writer) => void upkeeps.push(writer.steps) };
    // Every step says there is more: the table is due again the moment a step ends.
    const { service, writers } = serviceOf(world, () => () => 'more', { upkeep, maintenanceIntervalMs: 50 });
    service.start();
    try {
      await until('two upkeep runs', () => upkeeps.length >= 2);
      const stepsAtUpkeep = writers.get(1)!.steps;
      await until('more steps after them', () => writers.get(1)!.steps > stepsAtUpkeep);
      // Between the upkeeps the table was stepped (upkeep took the place of a step, not of all).
      expect(upkeeps[1]).toBeGreaterThan(upkeeps[0]);
    } finally {
      await service.stop();
    }
  });

  it('lets a table go once it is no longer writable (paused, say), and steps it no more', async () => {
    const world = new World();
    world.writable = [ref(1), ref(2)];
    const { service, writers } = serviceOf(world, () => () => 'idle');
    service.start();
    try {
      await until('both tables taken', () => world.mine.size === 2);
      world.writable = [ref(2)];
      await until('table 1 released', () => world.released.includes(1));
      const steps = writers.get(1)!.steps;
      expect(service.details()).toMatchObject({ tables: ['public.t2'] });
      expect(writers.get(1)!.steps).toBe(steps);
    } finally {
      await service.stop();
    }
  });

  it('backs a failing table off, keeps stepping the others, and marks it failed and lets it go after its attempts', async () => {
    const world = new World();
    world.writable = [ref(1), ref(2)];
    const broken = new ClassifiedError('table public.t1: the primary key changed', needsOperator('schema', 'resync the table'));
    const { service, writers } = serviceOf(world, (table) => (table.tableId === 1 ? () => { throw broken; } : () => 'more'));
    service.start();
    try {
      await until('table 1 marked failed', () => world.failures.length === 1);
      expect(world.failures[0]).toMatchObject({ tableId: 1, failure: { kind: 'schema', action: 'resync the table', attempts: 2 } });
      await until('table 1 released', () => world.released.includes(1));
      // Each failure made the writer forget its cache; the healthy table kept going meanwhile.
      expect(writers.get(1)!.resets).toBe(2);
      const before = writers.get(2)!.steps;
      await until('table 2 stepped on', () => writers.get(2)!.steps > before + 3);
      expect(world.mine.has(1)).toBe(false);
    } finally {
      await service.stop();
    }
    expect(world.mine.size).toBe(0);
  });
});
