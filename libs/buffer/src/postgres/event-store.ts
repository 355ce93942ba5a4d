import { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { BufferedEvent, Checkpoint } from '../buffered-event';
import { COPY_COLUMNS, encodeBinaryCopy } from '../copy-binary';
import { EventStore } from '../ports';
import { PostgresCheckpointer } from './checkpointer';
import { EVENTS_CHANNEL } from './sql';

/** Appends events with one binary COPY per batch, inside the transaction that moves the checkpoint. */
export class PostgresEventStore implements EventStore {
  constructor(private readonly client: ClientBase) {}

  async commit(sourceId: string, events: readonly BufferedEvent[], checkpoint: Checkpoint): Promise<void> {
    await this.inTransaction(async () => {
      if (events.length > 0) await this.copy(events);
      await PostgresCheckpointer.saveIn(this.client, sourceId, checkpoint);
      // NOTIFY is transactional: writers hear of the events only once they are committed.
      if (events.length > 0) await this.client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, sourceId]);
    });
  }

  async commitCopy(sourceId: string, tableId: number, events: readonly BufferedEvent[], rowsCopied: number): Promise<void> {
    await this.inTransaction(async () => {
      if (events.length > 0) await this.copy(events);
      const result = await this.client.query("UPDATE cdc_backfill SET rows_copied = $2 WHERE table_id = $1 AND status = 'copying'", [tableId, rowsCopied]);
      if (result.rowCount !== 1) throw new Error(`table ${tableId} of source ${sourceId} is not being copied`);
    });
  }

  private async copy(events: readonly BufferedEvent[]): Promise<void> {
    const stream = this.client.query(copyFrom(`COPY cdc_events ${COPY_COLUMNS} FROM STDIN (FORMAT binary)`));
    await pipeline(Readable.from([encodeBinaryCopy(events)]), stream);
  }

  private async inTransaction(work: () => Promise<void>): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await work();
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
