import { Client, Pool } from 'pg';
import {
  Checkpoint,
  CONTROL_CHANNEL,
  listen,
  markUnpublished,
  operatorPauseOf,
  PostgresBackfillStore,
  PostgresCheckpointer,
  PostgresEventStore,
  PostgresSchemaStore,
  requestCopy,
  sourceBacklog,
} from '@philotes/buffer';
import { FaultInjector } from '@philotes/faults';
import { StateMachine } from '@philotes/lifecycle';
import { formatLsn } from '@philotes/pgoutput';
import { ReplicationConnection, ReplicationTarget } from '@philotes/replication';
import { SqlState, sqlStateOf } from '@philotes/retry';
import { timeTransformOf } from './range-partition';
import { copiesDue, CopyWatch } from './copy-plan';
import { CopyRunner } from './copy-runner';
import { LostSlotError, StartOverError } from './errors';
import { measuredEventStore } from './measured-event-store';
import { InitialCopy } from './initial-copy';
import type { StreamPosition } from './lag-monitor';
import { OperatorPauseWatch } from './operator-pause-watch';
import type { SourceRun, SourceRunView } from './reader-parts';
import { HoldOutcome } from './reader-holds';
import { ReaderMetrics } from './reader-metrics';
import type { ReaderLog, ReaderSettings } from './reader-settings';
import { RelationRegistry } from './relation-registry';
import { SourceCatalog } from './source-catalog';
import { prepareSource } from './source-preparation';
import { StreamingSession } from './streaming-session';
import { TypeResolver } from './type-resolver';
import { CopyVisibility } from './visibility';

/** How often the operator's pause is read; a NOTIFY on CONTROL_CHANNEL makes it at once. */
const OPERATOR_PAUSE_POLL_MS = 500;

export interface PostgresSourceRunDeps {
  readonly source: ReplicationTarget;
  readonly bufferUrl: string;
  readonly bufferPool: Pool;
  readonly sourcePool: Pool;
  /** The buffer connection holding the leader lock: the stream's commits go through it. */
  readonly leader: Client;
  readonly leaderPid: number;
  readonly settings: () => ReaderSettings;
  readonly machine: StateMachine;
  readonly metrics: ReaderMetrics;
  readonly faults: FaultInjector;
  readonly log: ReaderLog;
}

/**
 * The source as its leader runs it on PostgreSQL: prepares it (publication, slot, initial copy),
 * then streams it into the buffer through the leader connection, with copies beside the stream and
 * the operator's pause obeyed as backpressure is.
 */
export class PostgresSourceRun implements SourceRun {
  private session?: StreamingSession;
  private controls?: OperatorPauseWatch;
  private replication?: ReplicationConnection;
  private catalog?: SourceCatalog;
  /** Copies beside the running session. */
  private copies?: CopyRunner;
  private streaming = false;
  private copyProgress?: SourceRunView['copyProgress'];

  constructor(private readonly deps: PostgresSourceRunDeps) {}

  get view(): SourceRunView {
    const checkpoint = this.session?.checkpoint;
    const operatorPause = this.session?.operatorPause;
    return {
      streaming: this.streaming,
      ...(checkpoint ? { confirmedLsn: checkpoint.confirmedLsn } : {}),
      ...(operatorPause ? { operatorPause } : {}),
      ...(this.copyProgress ? { copyProgress: this.copyProgress } : {}),
    };
  }

  fail(error: unknown): void {
    this.session?.fail(error);
  }

  stop(): void {
    this.controls?.stop();
    this.session?.stop();
  }

  controlNotice(): void {
    this.controls?.checkNow();
    this.lookForCopies();
  }

  lagPosition(): StreamPosition | undefined {
    const session = this.session;
    if (!session || !this.catalog) return undefined;
    const { replicationSlot: slot, sourceId } = this.deps.settings();
    return { idle: session.idle, lastCommitTime: session.checkpoint.lastCommitTime, slotLost: () => session.fail(new LostSlotError(slot, sourceId, 'it was dropped while streaming')) };
  }

  async lagReading(): Promise<{ current: bigint; slot: Awaited<ReturnType<SourceCatalog['slot']>> }> {
    const catalog = this.catalog!;
    const [current, slot] = await Promise.all([catalog.currentWalLsn(), catalog.slot(this.deps.settings().replicationSlot)]);
    return { current, slot };
  }

  async close(): Promise<void> {
    this.controls?.stop();
    this.controls = undefined;
    this.streaming = false;
    this.copyProgress = undefined;
    this.session = undefined;
    const replication = this.replication;
    this.replication = undefined;
    await replication?.close();
  }

  async run(signal: AbortSignal): Promise<void> {
    const { leader } = this.deps;
    const settings = this.deps.settings();
    const { sourceId, replicationSlot: slot, publication } = settings;
    const catalog = new SourceCatalog(this.deps.sourcePool);
    const checkpointer = new PostgresCheckpointer(leader);
    // Measured here, once: the session commits through the port and times nothing itself.
    const events = measuredEventStore(new PostgresEventStore(leader, { afterCopy: () => this.deps.faults.hit('reader.after-copy') }), this.deps.metrics);
    const backfill = new PostgresBackfillStore(leader);
    const relations = new RelationRegistry(sourceId, new PostgresSchemaStore(leader), new TypeResolver(catalog, this.deps.log), (oid) => catalog.primaryKey(oid), async (oid) => timeTransformOf(await catalog.rangeAlignment(oid)));

    const copy = new InitialCopy({
      sourceId,
      publication,
      source: this.deps.source,
      bufferUrl: this.deps.bufferUrl,
      leader: () => ({ sourceId, leaderPid: this.deps.leaderPid }),
      relations: (schemas) => new RelationRegistry(sourceId, schemas, new TypeResolver(catalog, this.deps.log), (oid) => catalog.primaryKey(oid), async (oid) => timeTransformOf(await catalog.rangeAlignment(oid))),
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
    const { checkpoint, replication } = prepared;
    if (copyWanted) {
      // While streaming, a table no copy covers is marked for a copy before any of its changes is
      // stored (writers hold it from then on), and copied beside the stream.
      const watch = new CopyWatch(await backfill.states(sourceId));
      // Awaited by the stream before the relation's first change.
      relations.onRegistered = async (relation) => {
        const reason = watch.uncovered(relation);
        if (!reason) return;
        const shape = await SourceCatalog.publishedShape(this.deps.sourcePool, publication, relation.schema, relation.table);
        if (!shape) {
          watch.reconsider(relation.relationOid);
          return;
        }
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

    const copies = await copyFilters(backfill, sourceId, checkpoint);
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

  /**
   * Copies waiting (an operator's resync, a table back in the publication) run beside the stream;
   * tables that left the publication are marked first. A whole source to start over ends the
   * session: the next start takes a new slot.
   */
  lookForCopies(): void {
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
}

/** Visibility filters for tables whose copy snapshot is newer than where streaming starts. */
async function copyFilters(backfill: PostgresBackfillStore, sourceId: string, checkpoint: Checkpoint): Promise<Map<number, CopyVisibility>> {
  // Copies planned from here on add theirs (StreamingSession.fence).
  const filters = new Map<number, CopyVisibility>();
  for (const state of await backfill.states(sourceId)) {
    // A requested table keeps its last copy until the next one: its filter too.
    if (state.status !== 'copying' && state.snapshot && state.snapshot.lsn > checkpoint.confirmedLsn) filters.set(state.tableId, new CopyVisibility(state.snapshot));
  }
  return filters;
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
