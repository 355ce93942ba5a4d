import type { LeaderLock } from '@philotes/buffer';
import type { Lsn } from '@philotes/pgoutput';
import type { StreamPosition } from './lag-monitor';
import type { SlotInfo } from './source-catalog';

/** The buffer connection that holds a source's leader lock; the leader writes on it. */
export interface LeaderConnection {
  readonly lock: LeaderLock;
  /** Its backend, which a copy's writes check (see LeaderFence). */
  readonly pid: number;
  /** Ends the connection, and the lock with it. */
  end(): Promise<void>;
}

/** What the leader connection tells the reader once it is open. */
export interface LeaderEvents {
  /** It failed or ended: the lock is gone, and with it the right to write. */
  lost(error: Error): void;
  /** An operator command for `source` (undefined: a notice this version cannot read). */
  control(source: string | undefined): void;
}

/** One leadership's run of the source: prepared (publication, slot, copy), then streamed. */
export interface SourceRun {
  /** Prepares and streams until the signal aborts or the session ends with an error. */
  run(signal: AbortSignal): Promise<void>;
  /** Ends the session with this error (run() rejects with it). */
  fail(error: unknown): void;
  /** Ends the session cleanly. */
  stop(): void;
  /** An operator command for this source: read its pause again, look for copies to run. */
  controlNotice(): void;
  /** Copies waiting, tables gone from the publication, a start-over: looked for now. */
  lookForCopies(): void;
  /** The streaming session's position for the lag monitor; undefined until it streams. */
  lagPosition(): StreamPosition | undefined;
  /** The source's WAL end and the slot as they are now. */
  lagReading(): Promise<{ readonly current: Lsn; readonly slot: SlotInfo | undefined }>;
  /** Facts for readiness and the state row; never row values. */
  readonly view: SourceRunView;
  /** Closes what the run opened (the replication connection, the pause watch). */
  close(): Promise<void>;
}

export interface SourceRunView {
  readonly streaming: boolean;
  readonly confirmedLsn?: Lsn;
  readonly operatorPause?: { readonly reason?: string };
  readonly copyProgress?: { readonly table: string; readonly rowsCopied: number; readonly tablesLeft: number };
}

/**
 * What a WalReader is made of, injected by the app (PostgresReaderParts) or a test: the leader
 * connection and the source run that leads on it.
 */
export interface ReaderParts<L extends LeaderConnection = LeaderConnection> {
  connectLeader(events: LeaderEvents): Promise<L>;
  sourceRun(leader: L): SourceRun;
}
