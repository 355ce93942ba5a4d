import { ClientBase } from 'pg';
import { Checkpoint, Checkpointer, PostgresSchemaStore, requestCopy } from '@philotes/buffer';
import { FaultInjector } from '@philotes/faults';
import { PipelineState, StateMachine } from '@philotes/lifecycle';
import { formatLsn } from '@philotes/pgoutput';
import { ReplicationConnection } from '@philotes/replication';
import { ReaderConfigurationError, sourceVersionProblem } from './errors';
import { InitialCopy } from './initial-copy';
import { planSlotStart } from './slot-plan';
import { SourceCatalog } from './source-catalog';

export interface SourcePreparationDeps {
  readonly settings: {
    readonly sourceId: string;
    readonly replicationSlot: string;
    readonly publication: string;
    readonly tables: readonly string[];
    readonly partitionedTables: 'root' | 'leaves';
    readonly snapshotMode: 'initial' | 'never';
  };
  readonly catalog: SourceCatalog;
  /** On the leader's connection: only the leader writes the checkpoint. */
  readonly checkpointer: Checkpointer;
  /** The leader's connection: a slot adopted from elsewhere marks its tables for a copy on it. */
  readonly leader: ClientBase;
  readonly copy: InitialCopy;
  /** Opens the replication connection (after a slot to drop is gone). */
  readonly connect: () => Promise<ReplicationConnection>;
  readonly machine: StateMachine;
  readonly faults: FaultInjector;
  readonly log: { info(message: string, meta?: Record<string, unknown>): void; warn(message: string, meta?: Record<string, unknown>): void };
}

/**
 * Gets the source ready to stream, as the leader: the publication (made if missing, tables without
 * replica identity named), the slot start planSlotStart decides (resume; a new slot and its initial
 * copy under the slot's snapshot; a start over; or a slot made elsewhere, its tables copied beside
 * the stream), and the checkpoint streaming starts from.
 */
export async function prepareSource(deps: SourcePreparationDeps, signal: AbortSignal): Promise<{ readonly checkpoint: Checkpoint; readonly replication: ReplicationConnection }> {
  const { settings, catalog, checkpointer, copy, faults, log, machine } = deps;
  const { sourceId, replicationSlot: slot, publication } = settings;
  const tooOld = sourceVersionProblem(await catalog.serverVersion());
  if (tooOld) throw new ReaderConfigurationError(`source ${sourceId}: ${tooOld}`);
  if ((await catalog.ensurePublication(publication, settings.tables, settings.partitionedTables)) === 'created') {
    log.info('created the publication', { publication, tables: settings.tables.length === 0 ? 'all' : settings.tables, partitionedTables: settings.partitionedTables });
  }
  const unidentified = await catalog.tablesWithoutIdentity(publication);
  if (unidentified.length > 0) {
    log.warn('published tables have no replica identity: the source refuses UPDATE and DELETE on them; add a primary key or set REPLICA IDENTITY FULL', {
      tables: unidentified,
    });
  }
  let checkpoint = await checkpointer.load(sourceId);
  const start = planSlotStart({
    slotName: slot,
    sourceId,
    database: await catalog.database(),
    checkpoint,
    slot: await catalog.slot(slot),
    // An operator asked to start the source over (a lost slot, a restored or moved cluster).
    startOverRequested: checkpoint !== undefined && (await checkpointer.resyncRequested(sourceId)),
    snapshotMode: settings.snapshotMode,
  });
  if (start.kind === 'start-over') {
    log.warn('starting the source over, as an operator asked: a new slot, every table copied again', { source: sourceId, slot });
    if (start.dropSlot) await catalog.dropSlot(slot);
  }

  const replication = await deps.connect();
  const copyWanted = settings.snapshotMode === 'initial';
  if (start.kind === 'start-over') {
    const created = await replication.createSlot(slot, copyWanted);
    log.info('created the replication slot', { slot, consistentPoint: formatLsn(created.consistentPoint) });
    await checkpointer.startOver(sourceId, slot, created.consistentPoint);
    checkpoint = { confirmedLsn: created.consistentPoint };
    if (copyWanted && created.snapshotName) {
      machine.ensure(PipelineState.Running, 'copying every table again');
      const tables = (await catalog.publishedTables(publication)).map((table) => ({ ...table, reason: 'resync' as const }));
      await copy.run(tables, { before: created.consistentPoint, exportedSnapshot: created.snapshotName, discardHistory: true }, signal);
    }
  } else if (start.kind === 'new-slot') {
    const created = await replication.createSlot(slot, copyWanted);
    faults.hit('reader.after-slot-created');
    log.info('created the replication slot', { slot, consistentPoint: formatLsn(created.consistentPoint) });
    await checkpointer.initialise(sourceId, slot, created.consistentPoint);
    faults.hit('reader.after-checkpoint-initialised');
    checkpoint = { confirmedLsn: created.consistentPoint };
    // Under the snapshot the slot exported, before streaming: nothing streamed is in it.
    if (copyWanted && created.snapshotName) {
      machine.ensure(PipelineState.Running, 'copying the existing rows');
      const tables = (await catalog.publishedTables(publication)).map((table) => ({ ...table, reason: 'initial' as const }));
      await copy.run(tables, { before: created.consistentPoint, exportedSnapshot: created.snapshotName }, signal);
    }
  } else if (start.kind === 'adopt-slot') {
    // A slot made by someone else: its snapshot is gone, so the tables are copied beside the stream.
    const from = start.from ?? (await catalog.currentWalLsn());
    await checkpointer.initialise(sourceId, slot, from);
    faults.hit('reader.after-checkpoint-initialised');
    checkpoint = { confirmedLsn: from };
    if (copyWanted) {
      const schemas = new PostgresSchemaStore(deps.leader);
      for (const table of await catalog.publishedTables(publication)) await requestCopy(deps.leader, await schemas.tableId(sourceId, table.schema, table.table), 'initial');
    }
  }
  if (!checkpoint) throw new Error('the reader has no checkpoint after its slot start (a bug)');
  return { checkpoint, replication };
}
