import { Pool } from 'pg';
import { BEFORE_FIRST, CONTROL_CHANNEL, controlTables, decodeWakeUp, EVENTS_CHANNEL, Position, recordTableFailure, TableAvailability, TableFailure, tableLag, TableRef, writableTables, WriterProgress } from '@philotes/buffer';
import { BackoffPolicy, classifyError, ErrorDirective, supervise } from '@philotes/retry';
import type { RetentionSettings } from './buffer-retention';
import { formatLsn } from '@philotes/pgoutput';

import { LeaseConnection, LeaseView } from './lease-connection';
import type { UpkeepSettings } from './table-upkeep';
import { CopyChangedError } from './copy-run';
import { afterFailure } from './failure-policy';
import { beginStep, dueAt, newSchedule, ScheduleSettings, TableSchedule } from './table-schedule';
import { CommitConflictError, PoisonRetryError, StalePositionError, TableWriter, WriterLog, WriterSettings } from './table-writer';
import { planShare } from './work-share';
import { WriterMetrics } from './writer-metrics';

export interface WriterServiceSettings extends WriterSettings, ScheduleSettings, UpkeepSettings, RetentionSettings {
  /** Tables stepped at the same time. */
  readonly concurrency: number;
  readonly backoff: BackoffPolicy;
  readonly maintenanceIntervalMs: number;
  /** See deadPeerConfig: the lease connection's. */
  readonly deadPeerTimeoutMs: number;
}

export interface ServiceLog extends WriterLog {
  error(message: string, meta?: Record<string, unknown>): void;
}

/** What the service drives of one table's writer (TableWriter in production). */
export interface StepWriter {
  readonly ref: TableRef;
  /** `schema.table`, for logs and metrics. */
  readonly qualified: string;
  /** Where the last step started (the failure record names it). */
  readonly lastStepPosition: Position | undefined;
  /** One commit's worth; 'more' when it left work for the next step. */
  step(): Promise<'more' | 'idle'>;
  /** Forgets what it cached (after a failure: the table may have changed under it). */
  reset(): void;
}

/** Upkeep of one owned table (compaction, snapshot expiry, orphan files), run between its commits. */
export interface TableUpkeep<W extends StepWriter = TableWriter> {
  run(writer: W): Promise<void>;
  /** Work of the table's upkeep goes on beside its commits (a rewrite): run it again soon to finish it. */
  pending?(writer: W): boolean;
}

/** The writers' shared connection: table leases (advisory locks held by the session) and notices. */
export interface Leases {
  /** Set once the connection is lost: every lease went with it. */
  readonly failure: Error | undefined;
  view(): Promise<LeaseView>;
  tryLease(tableId: number): Promise<boolean>;
  release(tableId: number): Promise<void>;
  close(): Promise<void>;
}

/** Port: what the service asks of the buffer database (postgresWriterBuffer in production). */
export interface WriterBuffer {
  /** Joins the writers: a leases connection that delivers the channels' notices. */
  openLeases(channels: ReadonlyArray<typeof EVENTS_CHANNEL | typeof CONTROL_CHANNEL>, onNotice: (channel: string, payload: string | undefined) => void, deadPeerTimeoutMs: number): Promise<Leases>;
  writableTables(): Promise<TableAvailability>;
  tableLag(tableIds: readonly number[]): Promise<Map<number, number>>;
  /** False when the table's position moved since `at` (what failed is gone). */
  recordTableFailure(tableId: number, failure: TableFailure, at: { readonly lsn: string; readonly seq: number } | undefined): Promise<boolean>;
}

/** The buffer as the service sees it, in PostgreSQL. */
export function postgresWriterBuffer(pool: Pool, bufferUrl: string): WriterBuffer {
  return {
    openLeases: (channels, onNotice, deadPeerTimeoutMs) => LeaseConnection.open(bufferUrl, channels, onNotice, deadPeerTimeoutMs),
    writableTables: () => writableTables(pool),
    tableLag: (tableIds) => tableLag(pool, tableIds),
    recordTableFailure: (tableId, failure, at) => recordTableFailure(pool, tableId, failure, at),
  };
}

/** Work done for the whole buffer by one writer at a time (buffer retention). */
export interface BufferUpkeep {
  run(): Promise<void>;
  readonly intervalMs: number;
}

export interface WriterServiceDeps<W extends StepWriter = TableWriter> {
  readonly buffer: WriterBuffer;
  /** Makes the writer of a table just leased. */
  readonly tableWriter: (ref: TableRef) => W;
  /** Where the table stands now, for a failure record when its failing step never read it. */
  readonly progress: Pick<WriterProgress, 'load'>;
  readonly settings: () => WriterServiceSettings;
  readonly metrics: WriterMetrics;
  readonly log: ServiceLog;
  readonly upkeep?: TableUpkeep<W>;
  readonly bufferUpkeep?: BufferUpkeep;
  /** Named in a table's failure record as the writer that gave up on it. */
  readonly instanceId?: string;
}

interface OwnedTable<W extends StepWriter> {
  readonly writer: W;
  readonly schedule: TableSchedule;
  attempt: number;
  /** Steps failed in a row (upkeep aside): what fails the table (see failsTableAfter). */
  stepFailures: number;
  releasing: boolean;
  nextUpkeepAt: number;
  lastError?: string;
}

/** How soon the upkeep of a table looks again at work it left running (a compaction's rewrite). */
const UPKEEP_POLL_MS = 1_000;
/**
 * Upkeep waits for a moment when the table has no step due, but no longer than this past its
 * time: a table that is never quiet (a backlog, a stream that fills every commit) gets its upkeep
 * anyway, in place of one step.
 */
const UPKEEP_PATIENCE_MS = 5_000;
/** How often leases are rebalanced (and a dead writer's tables picked up). */
const REBALANCE_MS = 1_000;
/** How often the lag gauge is refreshed. */
const LAG_REFRESH_MS = 5_000;

/**
 * One writer process: holds leases on a fair share of the tables, wakes when the reader announces
 * events (LISTEN) or a table's flush interval passes, and steps its tables — one commit each —
 * a few at a time. A table's failures back off on their own; the other tables keep flowing.
 */
export class WriterService<W extends StepWriter = TableWriter> {
  private readonly stopSignal = new AbortController();
  private readonly owned = new Map<number, OwnedTable<W>>();
  private readonly tasks = new Set<Promise<void>>();
  private running?: Promise<void>;
  private leases?: Leases;
  private wakeUp?: () => void;
  private nextRebalanceAt = 0;
  private nextLagAt = 0;
  private nextBufferUpkeepAt = 0;
  private bufferUpkeepRunning = false;
  private view = { liveWriters: 0, share: 0, connected: false };
  /** Tables an operator paused (none of them is stepped), for the state row. */
  private paused: readonly string[] = [];
  /** Tables that failed (none of them is stepped), as `source:schema.table`, for the state row. */
  private failedTables: readonly string[] = [];

  constructor(private readonly deps: WriterServiceDeps<W>) {}

  start(): void {
    this.running = this.supervise();
  }

  async stop(): Promise<void> {
    this.stopSignal.abort(new Error('writer stopping'));
    this.wakeUp?.();
    await this.running;
  }

  /** Ready while connected to the buffer with its leases. */
  get connected(): boolean {
    return this.view.connected;
  }

  details(): Record<string, unknown> {
    const failing = Object.fromEntries([...this.owned.values()].filter((t) => t.lastError).map((t) => [t.writer.qualified, t.lastError]));
    return {
      tables: [...this.owned.values()].map((t) => t.writer.qualified).sort(),
      liveWriters: this.view.liveWriters,
      share: this.view.share,
      ...(this.paused.length > 0 ? { pausedTables: this.paused } : {}),
      ...(this.failedTables.length > 0 ? { failedTables: this.failedTables } : {}),
      ...(Object.keys(failing).length > 0 ? { failing } : {}),
    };
  }

  private async supervise(): Promise<void> {
    // Never gives up: a writer without its buffer connection waits for it, whatever the error.
    await supervise(
      'the writers\' connection',
      async (signal, healthy) => {
        this.leases = await this.deps.buffer.openLeases(
          [EVENTS_CHANNEL, CONTROL_CHANNEL],
          (channel, payload) => (channel === CONTROL_CHANNEL ? this.onControl(payload) : this.onWakeUp(payload)),
          this.deps.settings().deadPeerTimeoutMs,
        );
        this.view.connected = true;
        healthy();
        this.deps.log.info('connected; sharing the tables with the other writers');
        await this.loop(signal);
      },
      {
        signal: this.stopSignal.signal,
        backoff: () => this.deps.settings().backoff,
        release: () => this.dropAll(),
        onRetry: ({ attempt, error, delayMs }) => this.deps.log.warn(`lost the buffer connection; reconnecting (attempt ${attempt}, next in ${delayMs} ms)`, { error }),
      },
    );
  }

  private async loop(signal: AbortSignal): Promise<void> {
    this.nextRebalanceAt = 0;
    while (!signal.aborted) {
      const leases = this.leases!;
      if (leases.failure) throw leases.failure;
      const now = Date.now();
      if (now >= this.nextRebalanceAt) {
        await this.rebalance(leases);
        this.nextRebalanceAt = now + REBALANCE_MS;
      }
      if (now >= this.nextLagAt) {
        await this.refreshLag();
        this.nextLagAt = now + LAG_REFRESH_MS;
      }
      this.startBufferUpkeep(now);
      const next = Math.min(this.nextRebalanceAt, this.startDueTasks(now));
      await this.sleepUntil(next, signal);
    }
  }

  /** Starts every due table up to the concurrency; returns when the next one falls due. */
  private startDueTasks(now: number): number {
    const settings = this.deps.settings();
    let next = Infinity;
    // Bytes waiting per source across this writer's tables: the reader's backpressure weighs them together.
    const waiting = new Map<string, number>();
    for (const t of this.owned.values()) waiting.set(t.writer.ref.sourceId, (waiting.get(t.writer.ref.sourceId) ?? 0) + t.schedule.pendingBytes);
    const due = (t: OwnedTable<W>) => dueAt(t.schedule, settings, waiting.get(t.writer.ref.sourceId));
    const upkeepOverdue = (t: OwnedTable<W>) => this.deps.upkeep !== undefined && now - t.nextUpkeepAt >= UPKEEP_PATIENCE_MS;
    const candidates = [...this.owned.values()]
      .filter((t) => !t.releasing && !t.schedule.running && !upkeepOverdue(t))
      .map((t) => ({ t, at: due(t) }))
      .sort((a, b) => a.at - b.at);
    for (const { t, at } of candidates) {
      if (at <= now && this.tasks.size < settings.concurrency) this.run(t, 'step', now);
      else if (at > now) next = Math.min(next, at);
      else next = now + 50; // due, but every slot is busy: a finishing task wakes the loop anyway
    }
    for (const t of this.owned.values()) {
      if (t.schedule.running || t.releasing || !this.deps.upkeep) continue;
      if (t.nextUpkeepAt <= now && this.tasks.size < settings.concurrency && (due(t) > now || upkeepOverdue(t))) this.run(t, 'upkeep', now);
      else next = Math.min(next, Math.max(t.nextUpkeepAt, now + 50));
    }
    return next;
  }

  private run(table: OwnedTable<W>, kind: 'step' | 'upkeep', now: number): void {
    const { schedule, writer } = table;
    if (kind === 'step') beginStep(schedule, now);
    else schedule.running = true;
    const work = async (): Promise<void> => {
      try {
        if (kind === 'upkeep') {
          const interval = this.deps.settings().maintenanceIntervalMs;
          table.nextUpkeepAt = Date.now() + interval;
          await this.deps.upkeep!.run(writer);
          if (this.deps.upkeep!.pending?.(writer)) table.nextUpkeepAt = Date.now() + Math.min(interval, UPKEEP_POLL_MS);
        } else {
          if ((await writer.step()) === 'more') schedule.forced = true;
          table.stepFailures = 0;
        }
        table.attempt = 0;
        table.lastError = undefined;
      } catch (error) {
        await this.failed(table, error, kind);
      } finally {
        schedule.running = false;
        if (table.releasing) await this.release(table);
      }
    };
    const task = work().finally(() => {
      this.tasks.delete(task);
      this.wakeUp?.();
    });
    this.tasks.add(task);
  }

  private async failed(table: OwnedTable<W>, error: unknown, kind: 'step' | 'upkeep'): Promise<void> {
    const settings = this.deps.settings();
    const name = table.writer.qualified;
    const directive = classifyError(error);
    table.attempt++;
    if (kind === 'step') table.schedule.forced = true;
    if (!(error instanceof PoisonRetryError)) table.writer.reset();
    const message = error instanceof Error ? error.message : String(error);
    const changedUnderUs = error instanceof CommitConflictError || error instanceof StalePositionError || error instanceof CopyChangedError;
    if (!changedUnderUs) table.lastError = message;
    if (!changedUnderUs && kind === 'step') table.stepFailures++;
    const next = afterFailure({ directive, changedUnderUs, kind, attempt: table.attempt, stepFailures: table.stepFailures }, settings);
    if (next.action === 'reload') {
      // Someone else committed this table: pick it up again from the catalog after a short pause.
      table.schedule.retryAt = Date.now() + next.retryInMs;
      this.deps.log.info('the table changed under this writer; reloading it', { table: name, reason: message });
      return;
    }
    if (next.failTable && (await this.giveUp(table, directive, message))) return;
    table.schedule.retryAt = Date.now() + next.retryInMs;
    const meta = { table: name, kind: directive.kind, action: directive.action, attempt: table.attempt, retryInMs: next.retryInMs, error };
    if (next.level === 'error') this.deps.log.error(`${kind === 'step' ? 'cannot write' : 'cannot maintain'} the table; retrying slowly until the cause is fixed`, meta);
    else this.deps.log.warn(kind === 'step' ? 'writing the table failed; retrying' : 'table maintenance failed; retrying', meta);
  }

  /**
   * Marks the table failed and lets it go: no writer takes it until an operator resumes or resyncs
   * it, and it no longer holds its source back (backpressure leaves it out). Its events stay.
   * False when the mark could not be stored (the buffer is unreachable): the table retries.
   */
  private async giveUp(table: OwnedTable<W>, directive: ErrorDirective, message: string): Promise<boolean> {
    const name = table.writer.qualified;
    // Where the failing steps stood: a step that failed before reading its position stands where
    // the table does now.
    const at = table.writer.lastStepPosition ?? (await this.deps.progress.load(table.writer.ref.tableId).catch(() => undefined));
    try {
      const recorded = await this.deps.buffer.recordTableFailure(
        table.writer.ref.tableId,
        { kind: directive.kind, message, action: directive.action, attempts: table.stepFailures, ...(this.deps.instanceId ? { failedBy: this.deps.instanceId } : {}) },
        at && at.lsn !== BEFORE_FIRST.lsn ? { lsn: formatLsn(at.lsn), seq: at.seq } : undefined,
      );
      if (!recorded) {
        // The position moved since these steps began (a copy was planned): what failed is gone.
        table.stepFailures = 0;
        return false;
      }
    } catch (error) {
      this.deps.log.warn('could not mark the table failed; retrying it', { table: name, error });
      return false;
    }
    this.deps.log.error('the table cannot be written: it is failed and left alone until an operator resumes or resyncs it; the other tables keep flowing', {
      table: name, kind: directive.kind, action: directive.action, attempts: table.stepFailures, reason: message,
    });
    table.releasing = true;
    return true;
  }

  /** Takes and gives up leases so tables spread evenly over the running writers. */
  private async rebalance(leases: Leases): Promise<void> {
    const { writable, paused, failed } = await this.deps.buffer.writableTables();
    const eligible = new Map(writable.map((ref) => [ref.tableId, ref]));
    this.paused = paused;
    this.failedTables = failed.map((entry) => `${entry.source}:${entry.table}`);
    this.deps.metrics.tableFailed.reset();
    for (const entry of failed) this.deps.metrics.tableFailed.set({ source: entry.source, table: entry.table, error_kind: entry.kind }, 1);
    const view = await leases.view();
    const plan = planShare({ eligible: [...eligible.keys()], holders: view.holders, liveWriters: view.liveWriters, myPid: view.pid });
    this.view = { liveWriters: view.liveWriters, share: plan.share, connected: true };

    // Leases this process holds but does not track (a release that raced a crash of its task) and
    // tracked tables whose lease is gone are reconciled here too.
    for (const tableId of plan.release) {
      const table = this.owned.get(tableId);
      if (!table) await leases.release(tableId);
      else if (!table.releasing) {
        table.releasing = true;
        if (!table.schedule.running) await this.release(table);
      }
    }
    let taken = 0;
    for (const tableId of plan.candidates) {
      if (taken >= plan.take) break;
      if (!(await leases.tryLease(tableId))) continue;
      taken++;
      this.own(eligible.get(tableId)!);
    }
    this.deps.metrics.tablesOwned.set(this.owned.size);
  }

  private own(ref: TableRef): void {
    const now = Date.now();
    const writer = this.deps.tableWriter(ref);
    // Upkeep of a table just taken waits a while: its previous owner may have just run it.
    this.owned.set(ref.tableId, { writer, schedule: newSchedule(now), attempt: 0, stepFailures: 0, releasing: false, nextUpkeepAt: now + this.deps.settings().maintenanceIntervalMs });
    this.deps.log.info('took the table', { table: writer.qualified });
  }

  private async release(table: OwnedTable<W>): Promise<void> {
    const { tableId } = table.writer.ref;
    if (this.owned.get(tableId) !== table) return;
    this.owned.delete(tableId);
    this.deps.metrics.lagSeconds.remove({ table: table.writer.qualified });
    this.deps.metrics.tablesOwned.set(this.owned.size);
    await this.leases?.release(tableId).catch(() => undefined);
    this.deps.log.info('released the table', { table: table.writer.qualified });
  }

  /** After a lost connection (the leases are gone with it) or at stop: finish what runs, forget all. */
  private async dropAll(): Promise<void> {
    this.view.connected = false;
    for (const table of this.owned.values()) table.releasing = true;
    await Promise.allSettled([...this.tasks]);
    for (const table of [...this.owned.values()]) await this.release(table);
    await this.leases?.close();
    this.leases = undefined;
  }

  private onWakeUp(payload: string | undefined): void {
    const wakeUp = decodeWakeUp(payload);
    if (!wakeUp) return;
    for (const table of this.owned.values()) {
      const { ref } = table.writer;
      if (ref.sourceId !== wakeUp.source) continue;
      if (!wakeUp.tables) {
        table.schedule.pendingUnknown = true;
        continue;
      }
      const added = wakeUp.tables.get(ref.tableId);
      if (added) {
        table.schedule.pendingEvents += added.events;
        table.schedule.pendingBytes += added.bytes;
      }
    }
    // A wake-up without sizes may mean a copy finished: a new table to share out.
    if (!wakeUp.tables) this.nextRebalanceAt = 0;
    this.wakeUp?.();
  }

  /**
   * An operator paused or resumed something (rebalance now: paused tables are let go, resumed ones
   * taken) or asked for replays (step the named tables now: a step applies replays first).
   */
  private onControl(payload: string | undefined): void {
    for (const tableId of controlTables(payload)) {
      const table = this.owned.get(tableId);
      if (table) table.schedule.forced = true;
    }
    this.nextRebalanceAt = 0;
    this.wakeUp?.();
  }

  private async refreshLag(): Promise<void> {
    const lag = await this.deps.buffer.tableLag([...this.owned.keys()]);
    for (const [tableId, seconds] of lag) {
      const table = this.owned.get(tableId);
      if (table) this.deps.metrics.lagSeconds.set({ table: table.writer.qualified }, seconds);
    }
  }

  /** Buffer retention, by whichever writer gets to it (the upkeep itself takes a lock). */
  private startBufferUpkeep(now: number): void {
    const upkeep = this.deps.bufferUpkeep;
    if (!upkeep || this.bufferUpkeepRunning || now < this.nextBufferUpkeepAt) return;
    this.bufferUpkeepRunning = true;
    this.nextBufferUpkeepAt = now + upkeep.intervalMs;
    upkeep
      .run()
      .catch((error: unknown) => this.deps.log.warn('buffer retention failed; it runs again at the next interval', { error }))
      .finally(() => (this.bufferUpkeepRunning = false));
  }

  private async sleepUntil(at: number, signal: AbortSignal): Promise<void> {
    const delay = Math.max(0, Math.min(at - Date.now(), 60_000));
    if (delay === 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
    this.wakeUp = undefined;
  }
}
