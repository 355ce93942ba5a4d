import { Client, ClientBase } from 'pg';
import { CONTROL_CHANNEL, EVENTS_CHANNEL, listen } from '@philotes/buffer';
import { deadPeerConfig, LockSpace } from '@philotes/db';

/** Who holds which table leases right now, and how many writers are running (from pg_locks). */
export interface LeaseView {
  /** Table id → backend pid of the lease connection holding it. */
  readonly holders: ReadonlyMap<number, number>;
  /** Writers running against this buffer database, this one included. */
  readonly liveWriters: number;
  /** This connection's backend pid. */
  readonly pid: number;
}

/**
 * The writer's connection for leases and wake-ups. Table leases are session advisory locks on it;
 * if it is lost, every lease goes with it (PostgreSQL releases them when the session ends), so a
 * writer that lost its connection stops owning its tables at once and others take them.
 * Commits do not run here: they are guarded by the catalog's compare-and-swap and the progress
 * check, which hold even if two writers briefly believe they own a table.
 */
export class LeaseConnection {
  private queue: Promise<unknown> = Promise.resolve();
  private lost?: Error;
  private pid = 0;

  private constructor(private readonly client: Client) {
    client.on('error', (error) => (this.lost ??= error));
    client.on('end', () => (this.lost ??= new Error('the lease connection ended')));
  }

  /** Connects, joins the writers (membership lock) and listens on `channels`. */
  static async open(
    connectionString: string,
    channels: ReadonlyArray<typeof EVENTS_CHANNEL | typeof CONTROL_CHANNEL>,
    onNotification: (channel: string, payload: string | undefined) => void,
    deadPeerTimeoutMs = 0,
  ): Promise<LeaseConnection> {
    // The leases are this session's locks: a writer that vanishes must lose them within the timeout.
    const client = new Client({ connectionString, application_name: 'philotes-iceberg-writer', ...deadPeerConfig(deadPeerTimeoutMs) });
    const connection = new LeaseConnection(client);
    client.on('notification', (message) => onNotification(message.channel, message.payload));
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      connection.pid = rows[0].pid;
      await client.query('SELECT pg_advisory_lock($1, $2)', [LockSpace.WriterMember, connection.pid]);
      for (const channel of channels) await listen(client, channel);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return connection;
  }

  /** Set once the connection failed: every lease is gone. */
  get failure(): Error | undefined {
    return this.lost;
  }

  tryLease(tableId: number): Promise<boolean> {
    return this.exclusive(async (db) => (await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LockSpace.WriterTable, tableId])).rows[0].ok);
  }

  release(tableId: number): Promise<void> {
    return this.exclusive(async (db) => {
      await db.query('SELECT pg_advisory_unlock($1, $2)', [LockSpace.WriterTable, tableId]);
    });
  }

  /** Leases and members in this database (advisory locks are per database; tests share a server). */
  view(): Promise<LeaseView> {
    return this.exclusive(async (db) => {
      const { rows } = await db.query<{ space: string; object: string; pid: number }>(
        `SELECT classid::bigint::text AS space, objid::bigint::text AS object, pid
           FROM pg_locks
          WHERE locktype = 'advisory' AND objsubid = 2 AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid::bigint IN ($1, $2)`,
        [LockSpace.WriterTable, LockSpace.WriterMember],
      );
      const holders = new Map<number, number>();
      let members = 0;
      for (const row of rows) {
        if (Number(row.space) === LockSpace.WriterTable) holders.set(Number(row.object), row.pid);
        else members++;
      }
      return { holders, liveWriters: Math.max(members, 1), pid: this.pid };
    });
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /** Runs `work` alone on the connection (pg queues queries anyway; this keeps failures per call). */
  private exclusive<T>(work: (db: ClientBase) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.lost) throw this.lost;
      return work(this.client);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
