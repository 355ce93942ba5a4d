import { BackoffPolicy } from '@philotes/retry';
import { SessionSettings } from './streaming-session';

export interface ReaderSettings extends SessionSettings {
  readonly sourceId: string;
  readonly replicationSlot: string;
  readonly publication: string;
  readonly tables: readonly string[];
  readonly snapshotMode: 'initial' | 'never';
  readonly lagWarningBytes: number;
  readonly lagWarningAgeMs: number;
  readonly backoff: BackoffPolicy;
  /** See deadPeerConfig: a reader that vanishes loses its leader lock and its slot within this. */
  readonly tcpUserTimeoutMs: number;
}

export interface ReaderLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}
