import { Pool, PoolClient } from 'pg';
import { Counter, Registry } from 'prom-client';
import { cleanupGuards, createPartition, deleteAppliedEvents, dropPartitionIfApplied, eventPartitions, wantedPartitions } from '@philotes/buffer';
import { LockSpace, withPoolClient } from '@philotes/db';
import { MetricName } from '@philotes/metrics';
import type { BufferUpkeep } from './writer-service';
import { WriterLog } from './table-writer';

export interface RetentionSettings {
  readonly bufferRetentionMs: number;
  readonly bufferCleanupIntervalMs: number;
  readonly bufferPartitionIntervalMs: number;
}

/**
 * Removes applied events older than the retention from the buffer, so it does not grow without
 * bound. Only events at or before a table's writer position go: an event not yet applied stays
 * however old it is (a stopped writer shows as lag and, through backpressure, pauses the reader).
 * Dead letters keep their own copy of the event. One writer runs it at a time (advisory lock).
 *
 * Each run, in order: makes the partitions of cdc_events the next intervals need (see
 * event-partitions.ts); drops every partition past the retention whose events are all applied —
 * the common case, no dead rows left behind; then deletes, in short batches, the applied events
 * past the retention that remain (in the default partition, or in a partition a paused or failed
 * table still holds events of).
 */
export class BufferRetention implements BufferUpkeep {
  private readonly removed: Counter<string>;
  private readonly dropped: Counter<string>;

  constructor(
    private readonly deps: {
      readonly pool: Pool;
      readonly settings: () => RetentionSettings;
      readonly registry: Registry;
      readonly log: WriterLog;
    },
  ) {
    this.removed = new Counter({ name: MetricName.BufferEventsRemoved, help: 'Applied events removed from the buffer by retention, row by row.', registers: [deps.registry] });
    this.dropped = new Counter({ name: MetricName.BufferPartitionsDropped, help: 'cdc_events partitions dropped whole by retention.', registers: [deps.registry] });
  }

  get intervalMs(): number {
    return this.deps.settings().bufferCleanupIntervalMs;
  }

  async run(): Promise<void> {
    const cutoff = new Date(Date.now() - this.deps.settings().bufferRetentionMs);
    await withPoolClient(this.deps.pool, async (client) => {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, 0) AS ok', [LockSpace.BufferRetention]);
      if (!rows[0].ok) return;
      try {
        await this.partitions(client, cutoff);
        const total = await deleteAppliedEvents(client, cutoff);
        this.removed.inc(total);
        if (total > 0) this.deps.log.info('removed applied events past the buffer retention', { events: total, olderThan: cutoff.toISOString() });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, 0)', [LockSpace.BufferRetention]);
      }
    });
  }

  /** Makes the partitions ahead, then drops those past the cutoff whose events are all applied. */
  private async partitions(client: PoolClient, cutoff: Date): Promise<void> {
    const settings = this.deps.settings();
    const stuck = await cleanupGuards(client);
    if (stuck > 0) this.deps.log.warn('could not drop a partition guard left on the default partition; trying again next run', { guards: stuck });
    const existing = await eventPartitions(client);
    const names = new Set(existing.map((p) => p.name));
    const overlaps = (a: { from: Date; to: Date }, b: { from: Date; to: Date }) => a.from < b.to && b.from < a.to;
    for (const wanted of wantedPartitions(new Date(), settings.bufferPartitionIntervalMs)) {
      // A range some partition already covers (made under another interval setting) is left to it.
      if (names.has(wanted.name) || existing.some((p) => overlaps(p, wanted))) continue;
      // Made only well before its range begins (two cleanup intervals): the guard that proves the
      // default partition holds none of it is gone by then. A range too close waits in the default.
      const done = new Date(wanted.from.getTime() - settings.bufferCleanupIntervalMs);
      if (done.getTime() - Date.now() < settings.bufferCleanupIntervalMs) continue;
      try {
        await createPartition(client, wanted, done);
      } catch (error) {
        // Busy (the lock timeout) or refused (the default partition holds rows of the range): next run.
        this.deps.log.warn('could not make a buffer partition; events of its range go to the default partition meanwhile', { partition: wanted.name, error });
      }
    }
    for (const partition of existing.filter((p) => p.to <= cutoff)) {
      try {
        if (await dropPartitionIfApplied(client, partition)) {
          this.dropped.inc();
          this.deps.log.info('dropped a buffer partition: every event in it was applied', { partition: partition.name, to: partition.to.toISOString() });
        }
      } catch (error) {
        this.deps.log.warn('could not drop a buffer partition; trying again next run', { partition: partition.name, error });
      }
    }
  }
}
