import { ClientBase } from 'pg';
import { ClassifiedError, needsOperator, SqlState, sqlStateOf } from '@philotes/retry';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { BufferedEvent, Checkpoint } from '../buffered-event';
import { COPY_COLUMNS, encodeBinaryCopy } from '../copy-binary';
import { EventStore } from '../ports';
import { CopyFencedError } from './copy-fence';
import { PostgresCheckpointer } from './checkpointer';
import { assertLeading, LeaderFence } from './leader-lock';
import { encodeWakeUp, EVENTS_CHANNEL } from '../notices';

/** Appends events with one binary COPY per batch, inside the transaction that moves the checkpoint. */
export class PostgresEventStore implements EventStore {
  /** `afterCopy` runs inside the open transaction, between the COPY and the commit (a crash point in tests). */
  constructor(
    private readonly client: ClientBase,
    private readonly hooks: { readonly afterCopy?: () => void; readonly leader?: LeaderFence } = {},
  ) {}

  async commit(sourceId: string, events: readonly BufferedEvent[], checkpoint: Checkpoint): Promise<void> {
    await this.client.query('BEGIN');
    try {
      if (events.length > 0) await copyEvents(this.client, events);
      this.hooks.afterCopy?.();
      // Checkpoint and wake-up in one round trip. NOTIFY is transactional: writers hear of the
      // events only once they are committed. COMMIT stays apart, after the row count is checked.
      const notify = events.length > 0 ? `; NOTIFY ${EVENTS_CHANNEL}, ${this.client.escapeLiteral(encodeWakeUp(sourceId, events))}` : '';
      const result = await this.client.query(`${PostgresCheckpointer.saveStatement(this.client, sourceId, checkpoint)}${notify}`);
      const update = Array.isArray(result) ? (result[0] as { rowCount: number | null }) : result;
      if (update.rowCount !== 1) throw new Error(`source ${sourceId} has no checkpoint row to advance`);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async commitCopy(sourceId: string, tableId: number, generation: number, events: readonly BufferedEvent[], rowsCopied: number): Promise<void> {
    await this.inTransaction(async () => {
      if (this.hooks.leader) await assertLeading(this.client, this.hooks.leader);
      // Fenced first: the row lock orders this batch after a new plan of the table, or refuses it.
      const result = await this.client.query("UPDATE cdc_backfill SET rows_copied = $3 WHERE table_id = $1 AND generation = $2 AND status = 'copying'", [tableId, generation, rowsCopied]);
      if (result.rowCount !== 1) throw new CopyFencedError(tableId, generation);
      if (events.length > 0) await copyEvents(this.client, events);
    });
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

/**
 * Appends events with one binary COPY (inside the caller's transaction), and adds their payload
 * bytes to each table's stored volume (see {@link addStoredBytes}).
 */
export async function copyEvents(client: Pick<ClientBase, 'query'>, events: readonly BufferedEvent[]): Promise<void> {
  await copyRows(client, events);
  await addStoredBytes(client, events);
}

/**
 * `cdc_table_volume`: the payload bytes stored per table, raised with the events in one
 * transaction, so a table's backlog (stored less applied) is exact without scanning the buffer.
 * Rows are locked in table order: two transactions storing the same tables never deadlock.
 */
async function addStoredBytes(client: Pick<ClientBase, 'query'>, events: readonly BufferedEvent[]): Promise<void> {
  const bytes = new Map<number, number>();
  for (const event of events) bytes.set(event.tableId, (bytes.get(event.tableId) ?? 0) + event.payload.length);
  if (bytes.size === 0) return;
  const tables = [...bytes.keys()].sort((a, b) => a - b);
  await client.query(
    `INSERT INTO cdc_table_volume (table_id, stored_bytes)
     SELECT * FROM unnest($1::int[], $2::bigint[]) ORDER BY 1
     ON CONFLICT (table_id) DO UPDATE SET stored_bytes = cdc_table_volume.stored_bytes + EXCLUDED.stored_bytes`,
    [tables, tables.map((id) => bytes.get(id)!)],
  );
}

async function copyRows(client: Pick<ClientBase, 'query'>, events: readonly BufferedEvent[]): Promise<void> {
  const stream = client.query(copyFrom(`COPY cdc_events ${COPY_COLUMNS} FROM STDIN (FORMAT binary)`));
  try {
    await pipeline(Readable.from([encodeBinaryCopy(events)]), stream);
  } catch (error) {
    // The key of cdc_events is (table, LSN, position, commit time): no row values, so it may be
    // shown. A duplicate means the checkpoint and the events disagree — a bug to report, not retry.
    if (sqlStateOf(error) === SqlState.UniqueViolation) {
      throw new ClassifiedError(`an event is already in the buffer: ${(error as { detail?: string }).detail ?? 'unknown key'}`, needsOperator('constraint', 'report this as a bug: the checkpoint and the stored events disagree'), { cause: error });
    }
    throw error;
  }
}
