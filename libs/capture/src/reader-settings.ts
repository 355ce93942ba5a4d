import { BackoffPolicy } from '@philotes/retry';
import { SessionLog, SessionSettings } from './streaming-session';

export interface ReaderSettings extends SessionSettings {
  readonly sourceId: string;
  readonly replicationSlot: string;
  readonly publication: string;
  readonly tables: readonly string[];
  /** How a publication the reader creates publishes partitioned tables (PHILOTES_CDC_PARTITIONED_TABLES). */
  readonly partitionedTables: 'root' | 'leaves';
  readonly snapshotMode: 'initial' | 'never';
  readonly lagWarningBytes: number;
  readonly lagWarningAgeMs: number;
  readonly backoff: BackoffPolicy;
  /** See deadPeerConfig: a reader that vanishes loses its leader lock and its slot within this. */
  readonly tcpUserTimeoutMs: number;
}

/** The session's log, and the reader's own errors (it gives up and says why). */
export interface ReaderLog extends SessionLog {
  error(message: string, meta?: Record<string, unknown>): void;
}
