import { Pool } from 'pg';
import { Counter, Registry } from 'prom-client';
import { LockSpace, withPoolClient } from '@philotes/db';
import { MetricName } from '@philotes/metrics';
import type { BufferUpkeep } from './writer-service';
import { WriterLog } from './table-writer';

export interface RetentionSettings {
  readonly bufferRetentionMs: number;
  readonly bufferCleanupIntervalMs: number;
}

/** Rows deleted per statement: short transactions, so the reader's writes never wait long. */
const DELETE_BATCH = 10_000;

/**
 * Removes applied events older than the retention from the buffer, so it does not grow without
 * bound. Only events at or before a table's writer position go: an event not yet applied stays
 * however old it is (a stopped writer shows as lag and, through backpressure, pauses the reader).
 * Dead letters keep their own copy of the event. One writer runs it at a time (advisory lock).
 */
export class BufferRetention implements BufferUpkeep {
  private readonly removed: Counter<string>;

  constructor(
    private readonly deps: {
      readonly pool: Pool;
      readonly settings: () => RetentionSettings;
      readonly registry: Registry;
      readonly log: WriterLog;
    },
  ) {
    this.removed = new Counter({ name: MetricName.BufferEventsRemoved, help: 'Applied events removed from the buffer by retention.', registers: [deps.registry] });
  }

  get intervalMs(): number {
    return this.deps.settings().bufferCleanupIntervalMs;
  }

  async run(): Promise<void> {
    const cutoff = new Date(Date.now() - this.deps.settings().bufferRetentionMs);
    await withPoolClient(this.deps.pool, async (client) => {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, 0) AS ok', [LockSpace.BufferRetention]);
      if (!rows[0].ok) return;
      // Walk the primary key in order (see withIndexOrder): never fetch a whole backlog to sort it.
      await client.query('SET enable_sort = off; SET enable_bitmapscan = off');
      try {
        let total = 0;
        const { rows: tables } = await client.query<{ table_id: number; applied_lsn: string; applied_seq: string }>(
          'SELECT table_id, applied_lsn::text, applied_seq::text FROM cdc_writer_progress ORDER BY table_id',
        );
        for (const table of tables) {
          for (;;) {
            // The primary key's order: a table's oldest events first, found by an index range scan.
            const { rowCount } = await client.query(
              `DELETE FROM cdc_events WHERE (table_id, commit_lsn, seq, commit_ts) IN (
                 SELECT table_id, commit_lsn, seq, commit_ts FROM cdc_events
                  WHERE table_id = $1 AND (commit_lsn, seq) <= ($2::pg_lsn, $3::bigint) AND commit_ts < $4
                  ORDER BY commit_lsn, seq LIMIT ${DELETE_BATCH})`,
              [table.table_id, table.applied_lsn, table.applied_seq, cutoff],
            );
            total += rowCount ?? 0;
            if ((rowCount ?? 0) < DELETE_BATCH) break;
          }
        }
        this.removed.inc(total);
        if (total > 0) this.deps.log.info('removed applied events past the buffer retention', { events: total, olderThan: cutoff.toISOString() });
      } finally {
        await client.query('RESET enable_sort; RESET enable_bitmapscan');
        await client.query('SELECT pg_advisory_unlock($1, 0)', [LockSpace.BufferRetention]);
      }
    });
  }
}
