import { Registry } from 'prom-client';
import type { LeaderLock } from '@philotes/buffer';
import { PipelineState, StateMachine } from '@philotes/lifecycle';
import { MetricName } from '@philotes/metrics';
import { LostSlotError } from './errors';
import type { LeaderConnection, LeaderEvents, ReaderParts, SourceRun, SourceRunView } from './reader-parts';
import { ReaderMetrics } from './reader-metrics';
import type { ReaderSettings } from './reader-settings';
import { WalReader } from './wal-reader';

/**
 * WalReader on parts in memory: the leader lock (one per source, shared by the readers of a test),
 * leader connections the test can break, and source runs that stream until stopped or failed.
 * Real: the reader's supervision (supervise, readerRetry), leadership (waitToLead), its status.
 */

/** The buffer's advisory locks: the source's lock and which connection holds it. */
class Locks {
  holder?: FakeLeader;
}

class FakeLeader implements LeaderConnection {
  ended = false;
  readonly lock: LeaderLock;
  constructor(
    private readonly locks: Locks,
    readonly pid: number,
    readonly events: LeaderEvents,
    private readonly journal: string[],
  ) {
    this.lock = {
      tryAcquire: async () => {
        if (this.ended) throw new Error('Connection terminated');
        if (this.locks.holder === undefined || this.locks.holder === this) this.locks.holder = this;
        return this.locks.holder === this;
      },
    };
  }
  async end(): Promise<void> {
    this.ended = true;
    if (this.locks.holder === this) this.locks.holder = undefined;
    this.journal.push(`end ${this.pid}`);
  }
}

class FakeRun implements SourceRun {
  view: SourceRunView = { streaming: false };
  notices = 0;
  looks = 0;
  closed = false;
  private settle?: { resolve: () => void; reject: (error: unknown) => void };
  constructor(
    readonly leader: FakeLeader,
    private readonly journal: string[],
  ) {}
  run(signal: AbortSignal): Promise<void> {
    this.journal.push(`run ${this.leader.pid}`);
    this.view = { ...this.view, streaming: true };
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  fail(error: unknown): void {
    this.settle?.reject(error);
  }
  stop(): void {
    this.settle?.resolve();
  }
  controlNotice(): void {
    this.notices++;
  }
  lookForCopies(): void {
    this.looks++;
  }
  lagPosition(): undefined {
    return undefined;
  }
  async lagReading(): Promise<never> {
    throw new Error('not measured in these tests');
  }
  /** When set, close() fails with it (after closing what it could). */
  closeError?: Error;
  async close(): Promise<void> {
    this.closed = true;
    this.journal.push(`close ${this.leader.pid}`);
    if (this.closeError) throw this.closeError;
  }
}

/** One reader process: its parts, what it did (journal), the connections and runs it made. */
class ReaderUnderTest {
  readonly journal: string[] = [];
  readonly leaders: FakeLeader[] = [];
  readonly runs: FakeRun[] = [];
  readonly machine = new StateMachine();
  readonly registry = new Registry();
  readonly metrics = new ReaderMetrics(this.registry);
  readonly failures: string[] = [];
  /** Errors the next connects throw, in order (a buffer that is down). */
  readonly connectErrors: Error[] = [];
  readonly reader: WalReader<FakeLeader>;

  constructor(locks: Locks, pidBase: number, over: Partial<ReaderSettings> = {}, monitorIntervalMs = 3_600_000) {
    const parts: ReaderParts<FakeLeader> = {
      connectLeader: async (events) => {
        const error = this.connectErrors.shift();
        if (error) {
          this.journal.push('connect failed');
          throw error;
        }
        const leader = new FakeLeader(locks, pidBase + this.leaders.length, events, this.journal);
        this.leaders.push(leader);
        this.journal.push(`connect ${leader.pid}`);
        return leader;
      },
      sourceRun: (leader) => {
        const run = new FakeRun(leader, this.journal);
        this.runs.push(run);
        return run;
      },
    };
    this.reader = new WalReader({
      parts,
      settings: () => settings(over),
      machine: this.machine,
      metrics: this.metrics,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
      fail: (reason) => this.failures.push(reason),
      standbyPollMs: 2,
      monitorIntervalMs,
    });
  }

  async gauge(name: string): Promise<number> {
    const metric = (await this.registry.getMetricsAsJSON()).find((m) => m.name === name);
    return Number(metric?.values[0]?.value ?? NaN);
  }
}

/** What WalReader itself reads of the settings; the rest is the run's, and the run is fake here. */
function settings(over: Partial<ReaderSettings>): ReaderSettings {
  const read: Partial<ReaderSettings> = {
    sourceId: 'src',
    replicationSlot: 'philotes_src',
    publication: 'philotes_pub',
    lagWarningBytes: 1 << 30,
    lagWarningAgeMs: 3_600_000,
    backoff: { initialIntervalMs: 1, maxIntervalMs: 4, multiplier: 2, jitter: 0, maxAttempts: Infinity },
  };
  return { ...read, ...over } as ReaderSettings;
}

/** Polls `condition` until it holds; fails naming `what` after the deadline. */
async function until(what: string, condition: () => boolean, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const readers: ReaderUnderTest[] = [];
afterEach(async () => {
  await Promise.all(readers.splice(0).map((r) => r.reader.stop()));
});
function reader(locks: Locks, pidBase: number, over?: Partial<ReaderSettings>): ReaderUnderTest {
  const made = new ReaderUnderTest(locks, pidBase, over);
  readers.push(made);
  made.reader.start();
  return made;
}

describe('WalReader', () => {
  it('leads at once on a free lock, runs the source on its leader connection, and lets both go when stopped', async () => {
    const locks = new Locks();
    const a = reader(locks, 100);
    await until('the run', () => a.runs.length === 1);
    expect(a.reader.status).toEqual({ role: 'active', streaming: true });
    expect(a.runs[0].leader).toBe(a.leaders[0]);
    expect(locks.holder).toBe(a.leaders[0]);
    expect(await a.gauge(MetricName.CdcReaderActive)).toBe(1);

    await a.reader.stop();
    expect(a.journal).toEqual(['connect 100', 'run 100', 'close 100', 'end 100']);
    expect(a.reader.status).toEqual({ role: 'starting', streaming: false });
    expect(locks.holder).toBeUndefined();
    expect(await a.gauge(MetricName.CdcReaderActive)).toBe(0);
  });

  it('stands by while another reader leads, runs nothing, and takes over when that reader goes', async () => {
    const locks = new Locks();
    const a = reader(locks, 100);
    await until('a leads', () => a.runs.length === 1);
    const b = reader(locks, 200);
    await until('b stands by', () => b.reader.status.role === 'standby');
    expect(b.machine.state).toBe(PipelineState.Running);
    expect(b.machine.reason).toBe('standby');
    expect(b.runs).toHaveLength(0);
    expect(b.reader.status.streaming).toBe(false);
    expect(await b.gauge(MetricName.CdcReaderActive)).toBe(0);

    await a.reader.stop();
    await until('b takes over', () => b.runs.length === 1);
    expect(b.reader.status).toEqual({ role: 'active', streaming: true });
    expect(locks.holder).toBe(b.leaders[0]);
    // The standby kept its one connection throughout: it took the lock on it, it did not reconnect.
    expect(b.journal).toEqual(['connect 200', 'run 200']);
  });

  it('stops while standing by without ever running the source', async () => {
    const locks = new Locks();
    const a = reader(locks, 100);
    await until('a leads', () => a.runs.length === 1);
    const b = reader(locks, 200);
    await until('b stands by', () => b.reader.status.role === 'standby');
    await b.reader.stop();
    expect(b.journal).toEqual(['connect 200', 'end 200']);
    expect(locks.holder).toBe(a.leaders[0]);
  });

  it('a lost leader connection ends the run; the reader closes everything, then connects and leads again', async () => {
    const locks = new Locks();
    const a = reader(locks, 100);
    await until('the run', () => a.runs.length === 1);
    a.leaders[0].events.lost(new Error('Connection terminated unexpectedly'));
    await until('a second run', () => a.runs.length === 2);
    // Nothing of the first leadership outlives it: its run is closed and its lock ended before
    // the next connection is opened.
    expect(a.journal).toEqual(['connect 100', 'run 100', 'close 100', 'end 100', 'connect 101', 'run 101']);
    expect(await a.gauge(MetricName.CdcReconnects)).toBe(1);
    expect(a.failures).toEqual([]);
  });

  it('retries a buffer it cannot use, moving the state each time (Starting when unreachable, Paused when it has no room), and leads once it can', async () => {
    const locks = new Locks();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const full = Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' });
    const a = new ReaderUnderTest(locks, 100);
    a.connectErrors.push(refused, full);
    // As after an earlier session streamed: the retry moves the state from Running.
    a.machine.transition(PipelineState.Running, 'streaming');
    const moves: string[] = [];
    a.machine.onTransition((t) => moves.push(`${t.to}: ${t.reason}`));
    readers.push(a);
    a.reader.start();
    await until('the run', () => a.runs.length === 1);
    expect(a.journal).toEqual(['connect failed', 'connect failed', 'connect 100', 'run 100']);
    expect(await a.gauge(MetricName.CdcReconnects)).toBe(2);
    expect(moves).toHaveLength(2);
    expect(moves[0]).toMatch(/^starting: reconnecting after a connection error \(attempt 1/);
    expect(moves[1]).toMatch(/^paused: waiting for the database to have room: could not extend file/);
  });

  it('lets the lock go even when closing the run fails, and goes on to lead again', async () => {
    const locks = new Locks();
    const a = reader(locks, 100);
    await until('a leads', () => a.runs.length === 1);
    a.runs[0].closeError = new Error('replication connection would not close');
    a.leaders[0].events.lost(new Error('Connection terminated unexpectedly'));
    // The second connection can only lead once the first let the lock go.
    await until('a second run', () => a.runs.length === 2);
    expect(a.journal).toEqual(['connect 100', 'run 100', 'close 100', 'end 100', 'connect 101', 'run 101']);
    expect(locks.holder).toBe(a.leaders[1]);
    expect(a.failures).toEqual([]);
  });

  it('gives up on a lost slot: the process fails with the reason and nothing reconnects', async () => {
    const locks = new Locks();
    const a = reader(locks, 100);
    await until('the run', () => a.runs.length === 1);
    a.runs[0].fail(new LostSlotError('philotes_src', 'src', 'it no longer exists on the source'));
    await until('the failure', () => a.failures.length === 1);
    expect(a.failures[0]).toMatch(/philotes_src/);
    expect(a.journal).toEqual(['connect 100', 'run 100', 'close 100', 'end 100']);
    expect(await a.gauge(MetricName.CdcReconnects)).toBe(0);
    expect(locks.holder).toBeUndefined();
  });

  it('hands an operator notice to the run only when it names this source or cannot be read', async () => {
    const locks = new Locks();
    const a = reader(locks, 100);
    await until('the run', () => a.runs.length === 1);
    const { events } = a.leaders[0];
    events.control('other-source');
    expect(a.runs[0].notices).toBe(0);
    events.control('src');
    events.control(undefined);
    expect(a.runs[0].notices).toBe(2);
  });

  it('looks for copies on every monitor tick while it leads: a lost notice waits a tick, no longer', async () => {
    const locks = new Locks();
    const a = new ReaderUnderTest(locks, 100, {}, 2);
    readers.push(a);
    a.reader.start();
    await until('the run', () => a.runs.length === 1);
    await until('two ticks', () => a.runs[0].looks >= 2);
    expect(a.runs[0].notices).toBe(0);
  });

  it('reports its run: the confirmed position, the operator pause and copy progress, never before it leads', async () => {
    const locks = new Locks();
    const holder = reader(locks, 100);
    await until('holder leads', () => holder.runs.length === 1);
    const a = reader(locks, 200);
    await until('a stands by', () => a.reader.status.role === 'standby');
    expect(a.reader.details()).toEqual({ role: 'standby', slot: 'philotes_src', publication: 'philotes_pub' });

    holder.runs[0].view = { streaming: true, confirmedLsn: 0x16b3748n, operatorPause: {}, copyProgress: { table: 'public.t', rowsCopied: 5, tablesLeft: 1 } };
    expect(holder.reader.details()).toEqual({
      role: 'active',
      slot: 'philotes_src',
      publication: 'philotes_pub',
      confirmedLsn: '0/16B3748',
      initialCopy: { table: 'public.t', rowsCopied: 5, tablesLeft: 1 },
      operatorPause: { reason: null },
    });
    // Copying before it streams counts as streaming for readiness.
    holder.runs[0].view = { streaming: false, copyProgress: { table: 'public.t', rowsCopied: 0, tablesLeft: 2 } };
    expect(holder.reader.status).toEqual({ role: 'active', streaming: true });
  });
});
