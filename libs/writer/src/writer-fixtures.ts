import { ChangeOp, MemoryBuffer, Position, TableRef } from '@philotes/buffer';
import { CdcValue, ChangePayload, ColumnSchema, createEncoder, encodePayload } from '@philotes/events';
import { WriterConfig } from './writer-settings';

/** The writer's settings as the config would give them, for tests (every PHILOTES_* the writer reads). */
export function writerConfig(over: Partial<WriterConfig> = {}): WriterConfig {
  return {
    batchSize: 1_000,
    flushIntervalMs: 5_000,
    dlqEnabled: true,
    retryMaxAttempts: 3,
    retryInitialIntervalMs: 1_000,
    retryMaxIntervalMs: 30_000,
    retryMultiplier: 2,
    retryJitter: 0.2,
    icebergNamespace: '{schema}',
    icebergMode: 'auto',
    icebergTableModes: ['public.audit=append', 'sales.orders=upsert'],
    icebergColumnTypes: ['public.orders.amount=string'],
    icebergPartitioning: [],
    icebergUnrepresentable: 'reject',
    icebergUpsertDeletes: 'position',
    icebergConvertEqualityDeletes: false,
    icebergTargetFileSize: 64 * 1024 * 1024,
    icebergTableProperties: [],
    icebergSortOrder: [],
    icebergWriteConcurrency: 2,
    icebergMaintenanceIntervalMs: 600_000,
    icebergCompactionMinFiles: 16,
    icebergCompactionMaxBytes: 512 * 1024 * 1024,
    icebergSnapshotRetentionMs: 86_400_000,
    icebergOrphanGraceMs: 3_600_000,
    bufferRetentionMs: 604_800_000,
    bufferPartitionIntervalMs: 86_400_000,
    bufferCleanupIntervalMs: 3_600_000,
    backpressureEnabled: true,
    backpressureHighBytes: 8_000_000,
    icebergReadBytes: 16 * 1024 * 1024,
    tcpUserTimeoutMs: 30_000,
      ...over,
  };
}

/** One source change for {@link bufferChanges}: its operation and row images, in the payload's form. */
export interface SourceChange {
  readonly op: ChangeOp;
  readonly after?: readonly CdcValue[];
  readonly before?: readonly CdcValue[];
}

/**
 * Stores source changes of one table in a memory buffer as the reader would: each a transaction
 * of its own at the next LSN, MessagePack-encoded like the reader's payloads, under the schema
 * version of `columns` (recorded on first sight). Returns the positions stored.
 */
export async function bufferChanges(buffer: MemoryBuffer, ref: Pick<TableRef, 'sourceId' | 'tableId'>, columns: readonly ColumnSchema[], changes: readonly SourceChange[]): Promise<Position[]> {
  const version = await buffer.schemaStore.recordVersion(ref.tableId, { relationOid: ref.tableId, replicaIdentity: 'd', columns }, 0n);
  const encoder = createEncoder();
  const kinds = columns.map((c) => c.kind);
  const positions: Position[] = [];
  for (const change of changes) {
    const lsn = 0x1000n + BigInt(buffer.events.length + 1) * 0x10n;
    const payload: ChangePayload = change.op === 'T' ? { truncate: { cascade: false, restartIdentity: false } } : { ...(change.after ? { after: change.after } : {}), ...(change.before ? { before: change.before, beforeIsKeyOnly: true } : {}) };
    const event = { tableId: ref.tableId, commitLsn: lsn, seq: 0, op: change.op, xid: 1, commitTime: lsn * 1_000n, schemaVersion: version, payload: encodePayload(encoder, payload, kinds) };
    await buffer.eventStore.commit(ref.sourceId, [event], { confirmedLsn: lsn + 1n, lastCommitTime: event.commitTime });
    positions.push({ lsn, seq: 0 });
  }
  return positions;
}
