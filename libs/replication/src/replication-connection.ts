import { Client, ClientConfig } from 'pg';
import { deadPeerConfig } from '@philotes/db';
import { formatLsn, Lsn, parseLsn } from '@philotes/pgoutput';
import { MessageFilter } from './message-filter';
import { parseOversized, parseStreamMessage, standbyStatusUpdate, StreamMessage } from './protocol';

export interface ReplicationTarget {
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
}

export interface CreatedSlot {
  readonly consistentPoint: Lsn;
  /** Set when the slot was created with an exported snapshot; valid until this connection's next command. */
  readonly snapshotName?: string;
}

export interface StreamOptions {
  readonly slot: string;
  readonly startLsn: Lsn;
  readonly publication: string;
  readonly onMessage: (message: StreamMessage) => void;
  /** A message larger than this is never received whole (see MessageFilter): it comes as 'oversized'. */
  readonly maxMessageBytes: () => number;
  /** A message too large that is not a change (nothing can be made of it): the stream must end. */
  readonly onUnreadable: (error: Error) => void;
}

/**
 * Session settings that fix how the walsender prints values, so text parsing is unambiguous:
 * ISO dates, UTC timestamps, ISO 8601 intervals, floats that round-trip exactly, hex bytea.
 */
const OUTPUT_SETTINGS = '-c DateStyle=ISO,YMD -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex';

/**
 * Port: what a streaming session needs of the replication connection (the session is tested with an
 * in-memory one; ReplicationConnection is the real one).
 */
export interface ReplicationStream {
  /** Streams the slot's changes from `startLsn` to `onMessage`; resolves when the source ends the stream. */
  start(options: StreamOptions): Promise<void>;
  /** Confirms everything before `confirmed` (written, flushed and applied: the same position). */
  sendStatus(confirmed: Lsn, replyRequested?: boolean): void;
  /** Stops reading the socket (the source then stops sending); resume() reads on. */
  pause(): void;
  resume(): void;
}

/**
 * A logical replication connection (`replication=database`) to the source, speaking the streaming
 * protocol directly on `pg`. Status updates carry exactly the position the caller confirms; nothing
 * is acknowledged behind its back.
 */
export class ReplicationConnection implements ReplicationStream {
  private streaming?: Promise<void>;
  private closed = false;

  private constructor(private readonly client: Client) {}

  /** `deadPeerTimeoutMs`: the walsender drops this connection within it if this process vanishes, freeing the slot (see deadPeerConfig). */
  static async connect(target: ReplicationTarget, applicationName: string, onError: (error: Error) => void, deadPeerTimeoutMs = 0): Promise<ReplicationConnection> {
    const config = { ...target, replication: 'database', application_name: applicationName, ...deadPeerConfig(deadPeerTimeoutMs, OUTPUT_SETTINGS) } as ClientConfig;
    const client = new Client(config);
    client.on('error', onError);
    await client.connect();
    return new ReplicationConnection(client);
  }

  /**
   * Creates a logical slot with pgoutput. With `exportSnapshot`, the returned snapshot shows the
   * database exactly as of the slot's consistent point (import it with SET TRANSACTION SNAPSHOT);
   * it lives until this connection runs its next command, so copy first, then stream.
   */
  async createSlot(slot: string, exportSnapshot: boolean): Promise<CreatedSlot> {
    const mode = exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT';
    const result = await this.client.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${this.client.escapeIdentifier(slot)} LOGICAL pgoutput ${mode}`,
    );
    const row = result.rows[0];
    return { consistentPoint: parseLsn(row.consistent_point), ...(row.snapshot_name ? { snapshotName: row.snapshot_name } : {}) };
  }

  /** Streams changes from `startLsn`; resolves when the stream ends, rejects on a stream error. */
  start(options: StreamOptions): Promise<void> {
    const connection = this.connection();
    connection.on('copyData', ({ chunk }: { chunk: Buffer }) => {
      const message = parseStreamMessage(chunk);
      if (message) options.onMessage(message);
    });
    this.filterLargeMessages(connection, options);
    // pgoutput splits publication_names as SQL identifiers, folding unquoted ones to lower case:
    // quoted, a publication named with capitals is found.
    const publication = this.client.escapeLiteral(this.client.escapeIdentifier(options.publication));
    const sql = `START_REPLICATION SLOT ${this.client.escapeIdentifier(options.slot)} LOGICAL ${formatLsn(options.startLsn)} (proto_version '1', publication_names ${publication})`;
    this.streaming = this.client.query(sql).then(() => undefined);
    return this.streaming;
  }

  /** Tells the source everything up to `confirmed` is safe; it may then recycle that WAL. */
  sendStatus(confirmed: Lsn, replyRequested = false): void {
    if (this.closed) return;
    this.connection().sendCopyFromChunk(standbyStatusUpdate(confirmed, replyRequested));
  }

  /** Stops reading from the socket (TCP backpressure to the walsender); status updates still go out. */
  pause(): void {
    this.connection().stream.pause();
  }

  resume(): void {
    this.connection().stream.resume();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end().catch(() => undefined);
    await this.streaming?.catch(() => undefined);
  }

  /**
   * Puts a MessageFilter between the socket and pg's parser: the connection is idle here (its
   * parser holds nothing), and from now on messages past the limit are reported, not gathered.
   */
  private filterLargeMessages(connection: PgConnection, options: StreamOptions): void {
    const stream = connection.stream;
    const parsers = stream.listeners('data') as Array<(chunk: Buffer) => void>;
    for (const parser of parsers) stream.removeListener('data', parser);
    const filter = new MessageFilter(
      options.maxMessageBytes,
      (chunk) => {
        for (const parser of parsers) parser(chunk);
      },
      ({ head, bytes }) => {
        const change = parseOversized(head, bytes);
        if (change) options.onMessage(change);
        else options.onUnreadable(new Error(`the source sent a replication message of ${bytes} bytes that is not a change, over PHILOTES_CDC_MAX_EVENT_BYTES`));
      },
    );
    stream.on('data', (chunk: Buffer) => filter.push(chunk));
  }

  private connection(): PgConnection {
    return (this.client as unknown as { connection: PgConnection }).connection;
  }
}

/** The parts of pg's internal Connection the streaming protocol needs. */
interface PgConnection {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: NodeJS.EventEmitter & { pause(): void; resume(): void };
}
