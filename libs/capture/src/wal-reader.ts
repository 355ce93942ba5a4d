import { deadPeerConfig } from '@philotes/db';
import { Client, Pool } from 'pg';
import {
  AdvisoryLeaderLock,
  backendPid,
  Checkpoint,
  CONTROL_CHANNEL,
  controlNoticeSource,
  listen,
  operatorPauseOf,
  markUnpublished,
  requestCopy,
  sourceBacklog,
  PostgresBackfillStore,
  PostgresCheckpointer,
  PostgresEventStore,
  PostgresSchemaStore,
} from '@philotes/buffer';
import { FaultInjector } from '@philotes/faults';
import { PipelineState, StateMachine } from '@philotes/lifecycle';
import { formatLsn } from '@philotes/pgoutput';
import { ReplicationConnection, ReplicationTarget } from '@philotes/replication';
import { BackoffPolicy, SqlState, sqlStateOf, supervise } from '@philotes/retry';
import { copiesDue, CopyWatch } from './copy-plan';
import { CopyRunner } from './copy-runner';
import { LostSlotError, StartOverError } from './errors';
import { InitialCopy } from './initial-copy';
import { LagMonitor } from './lag-monitor';
import { waitToLead } from './leadership';
import { OperatorPauseWatch } from './operator-pause-watch';
import { HoldOutcome } from './reader-holds';
import { readerGivesUp, readerRetry } from './reader-retry';
import { ReaderMetrics } from './reader-metrics';
import { prepareSource } from './source-preparation';
import { SessionSettings, StreamingSession } from './streaming-session';
import { RelationRegistry } from './relation-registry';
import { SourceCatalog } from './source-catalog';
import { TypeResolver } from './type-resolver';
import { CopyVisibility } from './visibility';

export interface ReaderSettings extends SessionSettings {
  readonly sourceId: string;
  readonly replicationSlot: string;
  readonly publication: string;
  readonly tables: readonly string[];
  readonly snapshotMode: 'initial' | 'never';
  readonly lagWarningBytes: number;
  readonly lagWarningAgeMs: number;
  readonly backoff: BackoffPolicy;
  /** See deadPeerConfig: a reader that vanishes loses its leader lock and its slot within this. */
  readonly tcpUserTimeoutMs: number;
}

export interface ReaderLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

export interface WalReaderDeps {
  readonly source: ReplicationTarget;
  readonly bufferUrl: string;
  readonly bufferPool: Pool;
  readonly sourcePool: Pool;
  readonly settings: () => ReaderSettings;
  readonly machine: StateMachine;
  readonly metrics: ReaderMetrics;
  readonly faults: FaultInjector;
  readonly log: ReaderLog;
  /** Moves the process to Failed (the lifecycle's own transition, with its reason). */
  readonly fail: (reason: string) => void;
}

export type ReaderRole = 'starting' | 'standby' | 'active';

/** How often a standby tries for the leader lock; a takeover waits at most about this long. */
const STANDBY_POLL_MS = 1_000;
/** A session that streamed this long resets the reconnect backoff. */
const HEALTHY_SESSION_MS = 30_000;
/** How often the lag is measured and waiting copies looked for. */
const MONITOR_INTERVAL_MS = 5_000;
/** How often the operator's pause is read; a NOTIFY on CONTROL_CHANNEL makes it at once. */
const OPERATOR_PAUSE_POLL_MS = 500;

/**
 * One source's reader. Waits for the source's leader lock (standing by while another reader holds
 * it), then prepares the source (publication, slot, initial copy) and streams it into the buffer.
 * A lost connection is retried with backoff; a lost slot stops the reader in Failed. While streaming,
 * it obeys an operator's pause of the source (`pipeline_controls`) as it obeys backpressure.
 */
export class WalReader {
  private readonly stopSignal = new AbortController();
  private running?: Promise<void>;
  private session?: StreamingSession;
  private controls?: OperatorPauseWatch;
  private leader?: Client;
  private replication?: ReplicationConnection;
  private role: ReaderRole = 'starting';
  private streaming = false;
  private copyProgress?: { table: string; rowsCopied: number; tablesLeft: number };
  /** One per reader: its warning limit spans sessions. Measures the session streaming now. */
  private readonly lag: LagMonitor;
  private monitor?: NodeJS.Timeout;
  /** The source catalog of the running session, for the monitor's checks. */
  private catalog?: SourceCatalog;
  /** Copies beside the running session. */
  private copies?: CopyRunner;
  /** The backend holding the leader lock, which a copy's writes check (LeaderFence). */
  private leaderPid = 0;

  constructor(private readonly deps: WalReaderDeps) {
    this.lag = new LagMonitor({
      slot: deps.settings().replicationSlot,
      read: async () => {
        const catalog = this.catalog!;
        const slot = this.deps.settings().replicationSlot;
        const [current, info] = await Promise.all([catalog.currentWalLsn(), catalog.slot(slot)]);
        return { current, slot: info };
      },
      position: () => {
        const session = this.session;
        if (!session || !this.catalog) return undefined;
        const slot = this.deps.settings().replicationSlot;
        return { idle: session.idle, lastCommitTime: session.checkpoint.lastCommitTime, slotLost: () => session.fail(new LostSlotError(slot, this.deps.settings().sourceId, 'it was dropped while streaming')) };
      },
      settings: () => this.deps.settings(),
      metrics: deps.metrics,
      log: deps.log,
    });
  }

  start(): void {
    this.running = this.supervise();
  }

  async stop(): Promise<void> {
    this.stopSignal.abort(new Error('reader stopping'));
    this.controls?.stop();
    this.session?.stop();
    await this.running;
  }

  /** For readiness: streaming (or copying) as the leader, or standing by. */
  get status(): { role: ReaderRole; streaming: boolean } {
    return { role: this.role, streaming: this.streaming || this.copyProgress !== undefined };
  }

  /** Facts for the pipeline state row and dlq-admin; never row values. */
  details(): Record<string, unknown> {
    const settings = this.deps.settings();
    const checkpoint = this.session?.checkpoint;
    const operatorPause = this.session?.operatorPause;
    const lag = this.session ? this.lag.lag : undefined;
    return {
      role: this.role,
      slot: settings.replicationSlot,
      publication: settings.publication,
      ...(checkpoint ? { confirmedLsn: formatLsn(checkpoint.confirmedLsn) } : {}),
      ...(lag?.bytes !== undefined ? { lagBytes: lag.bytes } : {}),
      ...(lag?.seconds !== undefined ? { lagSeconds: lag.seconds } : {}),
      ...(this.copyProgress ? { initialCopy: this.copyProgress } : {}),
      ...(operatorPause ? { operatorPause: { reason: operatorPause.reason ?? null } } : {}),
    };
  }

  private async supervise(): Promise<void> {
    const end = await supervise('the reader session', (signal) => this.lead(signal), {
      signal: this.stopSignal.signal,
      backoff: () => this.deps.settings().backoff,
      healthyAfterMs: HEALTHY_SESSION_MS,
      release: () => this.release(),
      giveUp: readerGivesUp,
      onRetry: ({ attempt, error, directive, delayMs }) => {
        this.deps.metrics.reconnects.inc();
        this.deps.log.warn(`reconnecting after a ${directive.kind} error (attempt ${attempt}, next in ${delayMs} ms)`, { error });
        const next = readerRetry(error, directive, attempt, delayMs);
        if (next.kind === 'retry' && this.deps.machine.can(next.state)) this.deps.machine.ensure(next.state, next.reason);
      },
    });
    if (end.kind === 'gave-up') {
      this.deps.log.error('the reader cannot continue', { error: end.error });
      this.deps.fail(end.error instanceof Error ? end.error.message : String(end.error));
    }
  }

  /** Takes the leader lock (standing by until it is free), then runs the source. */
  private async lead(signal: AbortSignal): Promise<void> {
    const settings = this.deps.settings();
    const leader = new Client({ connectionString: this.deps.bufferUrl, application_name: 'philotes-wal-reader-leader', ...deadPeerConfig(settings.tcpUserTimeoutMs) });
    this.leader = leader;
    // Losing this connection loses the lock, and with it the right to write: end the session now.
    // (Queries running on it are rejected by pg itself.)
    leader.on('error', (error) => this.session?.fail(error));
    leader.on('end', () => this.session?.fail(new Error('the buffer connection holding the leader lock ended')));
    // An operator command for this source (or one this version cannot read): look at once.
    leader.on('notification', (notice) => {
      const source = controlNoticeSource(notice.payload);
      if (notice.channel === CONTROL_CHANNEL && (source === undefined || source === settings.sourceId)) {
        this.controls?.checkNow();
        this.lookForCopies();
      }
    });
    await leader.connect();
    // The source lets WAL go once a commit here returns. With synchronous_commit off on the buffer
    // server, a commit can return before it is durable and a crash of the buffer then loses
    // events the source no longer holds. This session's commits are durable whatever the default.
    await leader.query('SET synchronous_commit = on');
    const lock = new AdvisoryLeaderLock(leader);
    this.leaderPid = await backendPid(leader);
    const leading = await waitToLead(
      {
        sourceId: settings.sourceId,
        lock,
        pollMs: STANDBY_POLL_MS,
        onStandby: () => {
          this.role = 'standby';
          this.deps.metrics.readerActive.set(0);
          this.deps.log.info('standing by: another reader leads this source', { source: settings.sourceId });
          this.deps.machine.ensure(PipelineState.Running, 'standby');
        },
      },
      signal,
    );
    if (!leading) return;
    this.role = 'active';
    this.deps.metrics.readerActive.set(1);
    this.deps.log.info('leading the source', { source: settings.sourceId });
    await this.runSource(leader, signal);
  }

  private async runSource(leader: Client, signal: AbortSignal): Promise<void> {
    const settings = this.deps.settings();
    const { sourceId, replicationSlot: slot, publication } = settings;
    const catalog = new SourceCatalog(this.deps.sourcePool);
    const checkpointer = new PostgresCheckpointer(leader);
    const events = new PostgresEventStore(leader, { afterCopy: () => this.deps.faults.hit('reader.after-copy') });
    const backfill = new PostgresBackfillStore(leader);
    const relations = new RelationRegistry(sourceId, new PostgresSchemaStore(leader), new TypeResolver(catalog, this.deps.log), (oid) => catalog.primaryKey(oid));

    const copy = new InitialCopy({
      sourceId,
      publication,
      source: this.deps.source,
      bufferUrl: this.deps.bufferUrl,
      leader: () => ({ sourceId, leaderPid: this.leaderPid }),
      relations: (schemas) => new RelationRegistry(sourceId, schemas, new TypeResolver(catalog, this.deps.log), (oid) => catalog.primaryKey(oid)),
      batchSize: () => this.deps.settings().batchSize,
      bytes: () => ({ batch: this.deps.settings().bufferBytes / 4, maxEvent: this.deps.settings().maxEventBytes }),
      deadPeerTimeoutMs: this.deps.settings().tcpUserTimeoutMs,
      metrics: this.deps.metrics,
      faults: this.deps.faults,
      log: this.deps.log,
      onProgress: (progress) => (this.copyProgress = progress),
    });
    const copyWanted = settings.snapshotMode === 'initial';
    const prepared = await prepareSource(
      {
        settings,
        catalog,
        checkpointer,
        leader,
        copy,
        connect: async () => (this.replication = await ReplicationConnection.connect(this.deps.source, 'philotes-wal-reader', (error) => this.session?.fail(error), this.deps.settings().tcpUserTimeoutMs)),
        machine: this.deps.machine,
        faults: this.deps.faults,
        log: this.deps.log,
      },
      signal,
    );
    const { checkpoint } = prepared;
    const replication = prepared.replication;
    if (copyWanted) {
      // While streaming, a table no copy covers is marked for a copy before any of its changes is
      // stored (writers hold it from then on), and copied beside the stream.
      const watch = new CopyWatch(await backfill.states(sourceId));
      // Awaited by the stream before the relation's first change.
      relations.onRegistered = async (relation) => {
        const reason = watch.uncovered(relation);
        if (!reason) return;
        const shape = await SourceCatalog.publishedShape(this.deps.sourcePool, publication, relation.schema, relation.table);
        // Only the relation that has the name now: changes of one dropped since stream before the
        // drop, and the copy of its successor's snapshot already skips them (CopyVisibility).
        if (shape?.relationOid !== relation.relationOid) return;
        const tableId = relations.get(relation.relationOid)?.tableId;
        if (tableId === undefined) return;
        await requestCopy(this.deps.bufferPool, tableId, reason);
        this.deps.log.info('a table needs a copy; it is copied beside the stream', { table: `${relation.schema}.${relation.table}`, reason });
        this.copies?.wake();
      };
    } else {
      const unfinished = (await backfill.states(sourceId)).filter((state) => state.status === 'copying');
      if (unfinished.length > 0) {
        this.deps.log.warn('tables have an unfinished copy; writers leave them alone until PHILOTES_CDC_SNAPSHOT_MODE=initial finishes it', {
          tables: unfinished.map((u) => `${u.schema}.${u.table}`),
        });
      }
    }
    if (signal.aborted) return;

    const copies = await this.copyFilters(backfill, sourceId, checkpoint);
    // The operator's pause applies from the first streamed message: listen, then read it.
    const controls = new OperatorPauseWatch({ read: () => operatorPauseOf(this.deps.bufferPool, sourceId), intervalMs: OPERATOR_PAUSE_POLL_MS, log: this.deps.log });
    this.controls = controls;
    await listen(leader, CONTROL_CHANNEL);
    await controls.load();
    if (signal.aborted) return;
    const session = new StreamingSession({
      sourceId,
      slot,
      publication,
      replication,
      checkpoint,
      checkpointer,
      events,
      relations,
      copies,
      xidReference: await catalog.nextXid(),
      backlog: () => sourceBacklog(this.deps.bufferPool, sourceId),
      settings: () => this.deps.settings(),
      metrics: this.deps.metrics,
      faults: this.deps.faults,
      log: this.deps.log,
      operatorPause: controls.current,
      onHoldChange: (outcome) => this.holdChanged(sourceId, outcome),
    });
    this.session = session;
    controls.start((pause) => session.setOperatorPause(pause));
    // Copies due (planning crashed, tables joined, were created again, were interrupted, or an
    // operator asked) run beside the stream from its start.
    const runner = copyWanted
      ? new CopyRunner({
          copy,
          fence: session,
          due: async () => copiesDue(await catalog.publishedTables(publication), await new PostgresBackfillStore(this.deps.bufferPool).states(sourceId)),
          log: this.deps.log,
          fail: (error) => session.fail(error),
        })
      : undefined;
    this.copies = runner;
    this.streaming = true;
    this.catalog = catalog;
    this.startMonitor();
    this.deps.log.info('streaming', { slot, from: formatLsn(checkpoint.confirmedLsn), copyFilters: copies.size });
    if (signal.aborted) session.stop();
    try {
      await session.run();
    } catch (error) {
      throw slotErrorOf(error, slot, sourceId) ?? error;
    } finally {
      this.copies = undefined;
      await runner?.stop();
    }
  }

  /** The session's holds changed (or streaming began): move the state, log the operator's part. */
  private holdChanged(sourceId: string, outcome: HoldOutcome): void {
    const { log, machine } = this.deps;
    const operator = outcome.operator;
    if (operator?.change === 'paused') log.info('source paused by operator', { source: sourceId, reason: operator.reason });
    else if (operator?.change === 'updated') log.info('operator pause reason changed', { source: sourceId, reason: operator.reason });
    else if (operator?.change === 'resumed') log.info('source resumed by operator', { source: sourceId });
    // A failing or stopping process keeps its state; the hold no longer matters.
    if (machine.state === outcome.state || machine.can(outcome.state)) machine.ensure(outcome.state, outcome.reason);
  }

  /** Visibility filters for tables whose copy snapshot is newer than where streaming starts. */
  private async copyFilters(backfill: PostgresBackfillStore, sourceId: string, checkpoint: Checkpoint): Promise<Map<number, CopyVisibility>> {
    // Copies planned from here on add theirs (StreamingSession.fence).
    const filters = new Map<number, CopyVisibility>();
    for (const state of await backfill.states(sourceId)) {
      // A requested table keeps its last copy until the next one: its filter too.
      if (state.status !== 'copying' && state.snapshot && state.snapshot.lsn > checkpoint.confirmedLsn) filters.set(state.tableId, new CopyVisibility(state.snapshot));
    }
    return filters;
  }

  /**
   * Copies waiting (an operator's resync, a table back in the publication) run beside the stream;
   * tables that left the publication are marked first. A whole source to start over ends the
   * session: the next start takes a new slot.
   */
  private lookForCopies(): void {
    const session = this.session;
    const catalog = this.catalog;
    if (!session || !catalog || this.deps.settings().snapshotMode !== 'initial') return;
    const { sourceId, publication } = this.deps.settings();
    const check = async (): Promise<boolean> => {
      const published = await catalog.publishedTables(publication);
      const marked = await markUnpublished(this.deps.bufferPool, sourceId, published);
      if (marked > 0) this.deps.log.info('tables left the publication; each is copied again when it comes back', { tables: marked });
      return new PostgresCheckpointer(this.deps.bufferPool).resyncRequested(sourceId);
    };
    check()
      .then((startOver) => {
        if (startOver) session.fail(new StartOverError());
        else this.copies?.wake();
      })
      .catch((error: unknown) => this.deps.log.debug('could not look for copies to run', { error }));
  }

  private startMonitor(): void {
    clearInterval(this.monitor);
    this.monitor = setInterval(() => {
      this.lag.check().catch((error: unknown) => this.deps.log.debug('could not measure lag', { error }));
      // A lost notification delays a resync to this tick, never longer.
      this.lookForCopies();
    }, MONITOR_INTERVAL_MS);
    this.monitor.unref();
  }

  /** Closes the session's connections; the leader lock goes with the leader connection. */
  private async release(): Promise<void> {
    clearInterval(this.monitor);
    // Only a streaming reader speaks for the slot (the leader's series is the truth).
    this.lag.clear();
    this.controls?.stop();
    this.controls = undefined;
    this.streaming = false;
    this.copyProgress = undefined;
    this.session = undefined;
    const replication = this.replication;
    const leader = this.leader;
    this.replication = undefined;
    this.leader = undefined;
    await replication?.close();
    await leader?.end().catch(() => undefined);
    if (this.role === 'active') this.deps.metrics.readerActive.set(0);
    this.role = 'starting';
  }
}

/** Errors from START_REPLICATION that mean the slot itself is gone or unusable. */
function slotErrorOf(error: unknown, slot: string, sourceId: string): LostSlotError | undefined {
  const code = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof LostSlotError) return error;
  if (code === SqlState.UndefinedObject && /replication slot/.test(message)) return new LostSlotError(slot, sourceId, 'it no longer exists on the source');
  if (code === SqlState.ObjectNotInPrerequisiteState && /can no longer get changes|has been invalidated/.test(message)) return new LostSlotError(slot, sourceId, message);
  return undefined;
}
