import { BufferedEvent, Checkpoint, Checkpointer, EventStore, OperatorPause, SourceBacklog } from '@philotes/buffer';
import { createEncoder } from '@philotes/events';
import { FaultInjector } from '@philotes/faults';
import { decodePgoutputRaw, formatLsn, Lsn, PgoutputMessage, RawTuple } from '@philotes/pgoutput';
import { OversizedChange, ReplicationStream, StreamMessage } from '@philotes/replication';
import { BackpressureSettings } from './backpressure';
import { BackpressureMonitor } from './backpressure-monitor';
import { ChangeAssembler } from './change-assembler';
import { checkpointAfter, checkpointMoved } from './checkpoint-rule';
import { HoldOutcome, holdOutcome, isHeld, ReaderHolds } from './reader-holds';
import { ReaderMetrics } from './reader-metrics';
import { RelationRegistry, RelationState } from './relation-registry';
import { CopyVisibility } from './visibility';
import { XidWidener } from './xid-widener';

/** The settings a session reads each time it uses them, so reloads apply without a restart. */
export interface SessionSettings extends BackpressureSettings {
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly bufferSize: number;
  /** Bytes received and not yet stored, each of the queue and the pending events, at most. */
  readonly bufferBytes: number;
  /** A change larger than this (as received, or once encoded) is stored as its size only. */
  readonly maxEventBytes: number;
  readonly checkpointIntervalMs: number;
  readonly backpressureEnabled: boolean;
  readonly backpressureCheckIntervalMs: number;
}

export interface SessionLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

export interface StreamingSessionDeps {
  readonly sourceId: string;
  readonly slot: string;
  readonly publication: string;
  readonly replication: ReplicationStream;
  readonly checkpoint: Checkpoint;
  readonly checkpointer: Checkpointer;
  readonly events: EventStore;
  readonly relations: RelationRegistry;
  /** Tables whose copy snapshot is newer than the start: changes the copy holds are left out. The session adds to it (fence). */
  readonly copies: Map<number, CopyVisibility>;
  /** The source's next xid (64-bit) as the session starts: pgoutput's xids are widened from it. */
  readonly xidReference: number;
  /** The source's unapplied buffer, for backpressure (sourceBacklog on the buffer pool). */
  readonly backlog: () => Promise<SourceBacklog>;
  readonly settings: () => SessionSettings;
  readonly metrics: ReaderMetrics;
  readonly faults: FaultInjector;
  readonly log: SessionLog;
  /** The operator's pause of the source as the session begins; later changes come by `setOperatorPause`. */
  readonly operatorPause?: OperatorPause;
  /** The state the holds (backpressure, operator pause) put the reader in: once as streaming begins, then on each change. */
  readonly onHoldChange: (outcome: HoldOutcome) => void;
}

/** Shortest time between two idle advances of the position (see StreamingSession.keepalive). */
const IDLE_ADVANCE_INTERVAL_MS = 1_000;

/** What waits in the queue: a decoded pgoutput message, or a keepalive's position. */
type Received =
  | PgoutputMessage<RawTuple>
  | { readonly tag: 'keepalive'; readonly walEnd: Lsn; readonly replyRequested: boolean }
  | { readonly tag: 'oversized'; readonly change: OversizedChange };

interface Batch {
  readonly events: BufferedEvent[];
  readonly checkpoint: Checkpoint;
}

/**
 * Streams the slot into the buffer: decode → batch → one buffer transaction per batch (events and
 * checkpoint together) → acknowledge exactly the stored position to the source. Decoding continues
 * while a batch is being written; memory stays bounded because the socket is paused when the queue
 * of received messages reaches PHILOTES_CDC_BUFFER_SIZE.
 *
 * Backpressure and an operator's pause hold the session the same way: the socket is paused (what
 * was already received is still stored), status updates keep the connection alive, and only stored
 * positions are confirmed. Reading resumes when neither holds.
 */
export class StreamingSession {
  private readonly queue: Received[] = [];
  /** Each queued message's bytes as received, beside it; and their sum, from `head` on. */
  private readonly queueSizes: number[] = [];
  private queueBytes = 0;
  private head = 0;
  private wake?: () => void;
  private socketPaused = false;
  private holds: ReaderHolds;
  /** Stopped tables over their backlog limit at the last measurement. */
  private readonly backpressure: BackpressureMonitor;
  private stopping = false;
  private failure?: unknown;

  private pending: BufferedEvent[] = [];
  private pendingBytes = 0;
  private durable: Checkpoint;
  /** The end of the newest whole transaction received (stored or pending). */
  private completedEnd: Lsn;
  private completedCommitTime?: bigint;
  /** The last position of the open transaction placed in a batch. */
  private openLastSeq = -1;
  private inFlight?: Promise<void>;
  /** Events handed to a batch so far, and those durably stored: what a fence waits for. */
  private accepted = 0;
  private stored = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly assembler: ChangeAssembler;
  /** When a keepalive may next move the position while idle (see {@link keepalive}). */
  private nextIdleAdvanceAt = 0;
  private deferredIdle?: { walEnd: Lsn; readonly timer: NodeJS.Timeout };

  constructor(private readonly deps: StreamingSessionDeps) {
    this.durable = deps.checkpoint;
    this.holds = deps.operatorPause ? { operator: deps.operatorPause } : {};
    this.completedEnd = deps.checkpoint.confirmedLsn;
    this.completedCommitTime = deps.checkpoint.lastCommitTime;
    this.backpressure = new BackpressureMonitor({
      backlog: () => deps.backlog(),
      settings: () => deps.settings(),
      metrics: deps.metrics,
      log: deps.log,
      onChange: (reason) => this.setBackpressure(reason),
    });
    this.assembler = new ChangeAssembler(
      deps.relations,
      createEncoder(),
      {
        event: (event) => this.accept(event),
        transactionEnd: (endLsn, commitTime) => {
          this.completedEnd = endLsn;
          this.completedCommitTime = commitTime;
          this.openLastSeq = -1;
        },
        unparsable: (relation: RelationState, column: string) =>
          deps.log.warn('a value did not parse as its column type; kept as text', { table: relation.qualifiedName, column }),
        oversized: (relation: RelationState, bytes: number) => {
          deps.metrics.oversizedEvents.inc({ table: relation.qualifiedName });
          deps.log.warn('a change is larger than PHILOTES_CDC_MAX_EVENT_BYTES: stored as its size only, for the dead letters; the stream goes on', {
            table: relation.qualifiedName, bytes, limitBytes: deps.settings().maxEventBytes,
          });
        },
      },
      deps.copies,
      new XidWidener(deps.xidReference),
      () => deps.settings().maxEventBytes,
      deps.checkpoint.partial,
    );
  }

  /** The position durably in the buffer. */
  get checkpoint(): Checkpoint {
    return this.durable;
  }

  /** Everything processed so far is stored: no open transaction, nothing pending or being written. */
  private get caughtUp(): boolean {
    return this.pending.length === 0 && !this.inFlight && !this.assembler.openTransaction;
  }

  /** The operator's pause while it holds this session. */
  get operatorPause(): OperatorPause | undefined {
    return this.holds.operator;
  }

  /** The operator paused the source (a pause) or resumed it (undefined). */
  setOperatorPause(pause: OperatorPause | undefined): void {
    this.updateHolds({ ...this.holds, operator: pause });
  }

  /** Caught up and nothing waiting to be processed: the reader has stored all it was sent. */
  get idle(): boolean {
    return this.caughtUp && this.head === this.queue.length;
  }

  /** Streams until `stop()`; rejects when the stream or the buffer fails. */
  async run(): Promise<void> {
    const { replication, checkpoint, slot, publication } = this.deps;
    const stream = replication.start({
      slot,
      startLsn: checkpoint.confirmedLsn,
      publication,
      onMessage: (message) => this.receive(message),
      maxMessageBytes: () => this.deps.settings().maxEventBytes,
      onUnreadable: (error) => this.fail(error),
    });
    stream.then(
      () => this.fail(new Error('the source ended the replication stream')),
      (error: unknown) => this.fail(error),
    );
    // A source paused before streaming began: nothing is read, but the walsender runs and hears
    // our status updates, so the slot stays active.
    if (isHeld(this.holds)) this.pauseSocket();
    const initial = holdOutcome(undefined, this.holds);
    if (initial) this.deps.onHoldChange(initial);
    this.schedule(() => this.tickFlush(), () => this.deps.settings().flushIntervalMs);
    this.schedule(() => this.tickStatus(), () => this.deps.settings().checkpointIntervalMs);
    this.schedule(() => this.tickBackpressure(), () => this.deps.settings().backpressureCheckIntervalMs);
    try {
      await this.loop();
      // Graceful stop: everything received is decoded; store it (a partial transaction included).
      await this.flushAll();
      this.acknowledge();
    } finally {
      for (const timer of this.timers) clearTimeout(timer);
      if (this.deferredIdle) clearTimeout(this.deferredIdle.timer);
    }
  }

  /** Drains: stops reading the source, stores what was received, acknowledges, and lets run() return. */
  stop(): void {
    this.stopping = true;
    this.deps.replication.pause();
    this.wake?.();
  }

  /** A failure from outside the loop (the replication connection, a timer): the session ends with it. */
  fail(error: unknown): void {
    if (this.stopping && this.failure === undefined && /Connection terminated/i.test(String(error))) return;
    this.failure ??= error;
    this.wake?.();
  }

  private receive(message: StreamMessage): void {
    // pg's protocol parser reuses its buffer: the received bytes are a view that later socket data
    // overwrites, so the message keeps a copy (its tuples are read from it when it is handled).
    const size = message.kind === 'xlog' ? message.body.length : 0;
    this.queue.push(
      message.kind === 'xlog'
        ? decodePgoutputRaw(Buffer.from(message.body))
        : message.kind === 'oversized'
          ? { tag: 'oversized', change: message }
          : { tag: 'keepalive', walEnd: message.walEnd, replyRequested: message.replyRequested },
    );
    this.queueSizes.push(size);
    this.queueBytes += size;
    const settings = this.deps.settings();
    if (!this.socketPaused && (this.queue.length - this.head >= settings.bufferSize || this.queueBytes >= settings.bufferBytes)) {
      this.socketPaused = true;
      this.deps.replication.pause();
    }
    this.wakeLoop();
  }

  /** Resumes the loop if it waits for the queue. */
  private wakeLoop(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.queueSizes.length = 0;
        this.queueBytes = 0;
        this.head = 0;
        if (this.stopping) return;
        this.resumeSocketIfDrained();
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const message = this.queue[this.head];
      this.queueBytes -= this.queueSizes[this.head++];
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.queueSizes.splice(0, this.head);
        this.head = 0;
      }
      if (message.tag === 'keepalive') {
        await this.keepalive(message.walEnd, message.replyRequested);
        continue;
      }
      const waiting = message.tag === 'oversized' ? this.assembler.oversized(message.change.relationOid, message.change.tag, message.change.bytes) : this.assembler.handle(message);
      if (waiting) await waiting;
      // Group commit: while a write is in flight, decoding goes on and the next write takes all
      // that accumulated; only a full buffer (by count or bytes) makes decoding wait for the write.
      const settings = this.deps.settings();
      if (this.pending.length >= settings.bufferSize || this.pendingBytes >= settings.bufferBytes) await this.inFlight;
      this.flushIfFull();
      this.resumeSocketIfDrained();
    }
  }

  /**
   * For a copy beside the stream: from now on the tables' changes the snapshot shows are left out
   * (the copy holds them). Resolves once every change received before is durably in the buffer,
   * with the fence's position: no transaction the filter did not see commits after it.
   */
  async fence(tableIds: readonly number[], visibility: CopyVisibility): Promise<bigint> {
    for (const tableId of tableIds) this.deps.copies.set(tableId, visibility);
    const open = this.assembler.openTransaction;
    // Every later transaction commits after the open one, or after the last one completed.
    const fenceLsn = open ? open.commitLsn : this.completedEnd;
    const target = this.accepted;
    while (this.stored < target) {
      if (this.failure !== undefined) throw this.failure;
      if (!this.inFlight) this.startWrite();
      if (this.failure !== undefined) throw this.failure;
      if (!this.inFlight) throw new Error('a copy fence found events neither pending nor stored');
      await this.inFlight;
    }
    if (this.failure !== undefined) throw this.failure;
    return fenceLsn;
  }

  private accept(event: BufferedEvent): void {
    this.accepted++;
    this.pending.push(event);
    this.pendingBytes += event.payload.length;
    this.openLastSeq = event.seq;
    this.deps.metrics.eventsRead.inc({ op: event.op });
  }

  private resumeSocketIfDrained(): void {
    const settings = this.deps.settings();
    if (this.socketPaused && !isHeld(this.holds) && !this.stopping && this.queue.length - this.head < settings.bufferSize / 2 && this.queueBytes < settings.bufferBytes / 2) {
      this.socketPaused = false;
      this.deps.replication.resume();
    }
  }

  /** Starts a write when a batch is full and none is in flight. */
  private flushIfFull(): void {
    const settings = this.deps.settings();
    // A batch's bytes are a quarter of the buffer's: the next fills while one is written.
    if (!this.inFlight && (this.pending.length >= settings.batchSize || this.pendingBytes >= settings.bufferBytes / 4)) this.startWrite();
  }

  /** Cuts the pending events into a batch and writes it; one write at a time. */
  private startWrite(): void {
    if (this.inFlight || this.failure !== undefined) return;
    const batch = this.cut();
    if (!batch) return;
    this.inFlight = this.write(batch).then(
      () => {
        this.inFlight = undefined;
        this.flushIfFull();
      },
      (error: unknown) => {
        this.inFlight = undefined;
        this.fail(error);
      },
    );
  }

  /** Writes everything received (a partial transaction included) and waits for it. */
  private async flushAll(): Promise<void> {
    await this.inFlight;
    this.startWrite();
    await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }

  /** The pending events with the checkpoint that will be true once they are stored. */
  private cut(): Batch | undefined {
    const open = this.assembler.openTransaction;
    const checkpoint = checkpointAfter(this.durable, {
      completedEnd: this.completedEnd,
      completedCommitTime: this.completedCommitTime,
      ...(open ? { open: { commitLsn: open.commitLsn, storedThrough: open.storedThrough, lastBatchedSeq: this.openLastSeq } } : {}),
    });
    if (this.pending.length === 0 && !checkpointMoved(this.durable, checkpoint)) return undefined;
    const events = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return { events, checkpoint };
  }

  private async write(batch: Batch): Promise<void> {
    const { faults, events, sourceId } = this.deps;
    faults.hit('reader.before-commit');
    if (batch.checkpoint.partial) faults.hit('reader.before-partial-commit');
    this.deps.log.debug('writing batch', {
      events: batch.events.length,
      first: batch.events[0] ? `${formatLsn(batch.events[0].commitLsn)}#${batch.events[0].seq}` : undefined,
      last: batch.events.at(-1) ? `${formatLsn(batch.events.at(-1)!.commitLsn)}#${batch.events.at(-1)!.seq}` : undefined,
      confirmed: formatLsn(batch.checkpoint.confirmedLsn),
      partial: batch.checkpoint.partial ? `${formatLsn(batch.checkpoint.partial.commitLsn)}#${batch.checkpoint.partial.seq}` : undefined,
    });
    await events.commit(sourceId, batch.events, batch.checkpoint);
    faults.hit('reader.after-commit');
    this.durable = batch.checkpoint;
    this.stored += batch.events.length;
    this.acknowledge();
    faults.hit('reader.after-ack');
  }

  /** Sends the stored position to the source; only positions the buffer holds are ever confirmed. */
  private acknowledge(replyRequested = false): void {
    this.deps.replication.sendStatus(this.durable.confirmedLsn, replyRequested);
  }

  private async keepalive(walEnd: Lsn, replyRequested: boolean): Promise<void> {
    // Every message before this keepalive is processed (the queue is ordered); if all of it is
    // stored and no transaction is open, every change the source sent before walEnd is in the
    // buffer, so the position may move there. This keeps WAL from piling up on an idle source, or
    // one whose changes are all in unpublished tables.
    //
    // At most once a second (or when the source asks for a reply): the source sends a keepalive
    // each time it has decoded all WAL and we have not confirmed it. Every WAL record counts —
    // other databases' too — so when the buffer lives on the source's server, each idle advance
    // (a buffer commit) called the next keepalive at once: a loop of tiny commits, and on a busy
    // server a keepalive per buffer transaction. One that comes too soon is taken up when the
    // second is over, so an idle position still follows within about a second.
    if (!this.caughtUp || this.durable.partial || walEnd <= this.durable.confirmedLsn) {
      if (replyRequested) this.acknowledge();
      return;
    }
    const now = performance.now();
    if (!replyRequested && now < this.nextIdleAdvanceAt) {
      this.deferIdleAdvance(walEnd, this.nextIdleAdvanceAt - now);
      return;
    }
    this.nextIdleAdvanceAt = now + IDLE_ADVANCE_INTERVAL_MS;
    if (await this.deps.checkpointer.advanceIdle(this.deps.sourceId, walEnd)) {
      this.deps.log.debug('advanced while idle', { from: formatLsn(this.durable.confirmedLsn), to: formatLsn(walEnd) });
      this.durable = { ...this.durable, confirmedLsn: walEnd };
      // A re-queued keepalive may lie before a transaction received since (an empty one, not yet stored).
      if (walEnd > this.completedEnd) this.completedEnd = walEnd;
    }
    this.acknowledge();
  }

  /**
   * Queues the keepalive again once idle advances are allowed. Safe however late: it is checked
   * again then, and everything received since lies after its position.
   */
  private deferIdleAdvance(walEnd: Lsn, delayMs: number): void {
    if (this.deferredIdle) {
      if (walEnd > this.deferredIdle.walEnd) this.deferredIdle.walEnd = walEnd;
      return;
    }
    const deferred = {
      walEnd,
      timer: setTimeout(() => {
        this.deferredIdle = undefined;
        this.queue.push({ tag: 'keepalive', walEnd: deferred.walEnd, replyRequested: false });
        this.queueSizes.push(0);
        this.wakeLoop();
      }, delayMs),
    };
    this.deferredIdle = deferred;
  }

  private tickFlush(): void {
    if (!this.stopping) this.startWrite();
  }

  private tickStatus(): void {
    // The source drops a connection it has not heard from within wal_sender_timeout; an idle
    // session also asks for a keepalive, whose position lets the checkpoint advance.
    this.acknowledge(this.idle);
  }

  private tickBackpressure(): void {
    void this.backpressure.check();
  }

  /** Backpressure holds (with its reason) or is released (undefined). */
  private setBackpressure(reason: string | undefined): void {
    this.updateHolds({ ...this.holds, backpressure: reason });
  }

  private updateHolds(next: ReaderHolds): void {
    const outcome = holdOutcome(this.holds, next);
    this.holds = next;
    if (isHeld(next)) {
      this.pauseSocket();
    } else {
      this.resumeSocketIfDrained();
      this.wake?.();
    }
    // A draining session no longer decides the process state (it is stopping).
    if (outcome && !this.stopping) this.deps.onHoldChange(outcome);
  }

  private pauseSocket(): void {
    this.socketPaused = true;
    this.deps.replication.pause();
  }

  private schedule(tick: () => void, interval: () => number): void {
    const index = this.timers.length;
    const run = (): void => {
      tick();
      this.timers[index] = setTimeout(run, interval());
    };
    this.timers.push(setTimeout(run, interval()));
  }
}
