import { JsonValue } from '@philotes/pg-types';
import { DeadLetterStatus } from './dead-letter-model';

/** A dead letter in a list: what failed, where, and where it stands. No row values. */
export interface DeadLetterSummary {
  readonly id: string;
  readonly source: string;
  readonly schema: string;
  readonly table: string;
  readonly op: string;
  readonly commitLsn: string;
  readonly seq: string;
  readonly xid: string | null;
  /** ISO 8601, to the microsecond. */
  readonly commitTs: string;
  readonly schemaVersion: number;
  readonly errorClass: string;
  readonly errorMessage: string;
  readonly attempts: number;
  readonly status: DeadLetterStatus;
  readonly statusReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One dead letter whole: its event decoded by the columns of its schema version, and its history. */
export interface DeadLetterDetail extends DeadLetterSummary {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string; readonly key: boolean }>;
  readonly payload: {
    readonly before?: Record<string, JsonValue>;
    readonly after?: Record<string, JsonValue>;
    /** `before` holds only the key columns (the source table's replica identity is the default). */
    readonly beforeIsKeyOnly: boolean;
    /** The change was larger than PHILOTES_CDC_MAX_EVENT_BYTES: its size, and no row. */
    readonly oversizedBytes?: number;
  };
  readonly history: readonly JsonValue[];
}

export interface DeadLetterPage {
  readonly items: readonly DeadLetterSummary[];
  /** Pass as `after` for the next (older) page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface DeadLetterCounts {
  readonly pending: number;
  readonly replaying: number;
  readonly replayed: number;
  readonly discarded: number;
  readonly superseded: number;
  readonly total: number;
}

export interface DeadLetterStats {
  readonly total: DeadLetterCounts;
  readonly byTable: ReadonlyArray<{ readonly source: string; readonly schema: string; readonly table: string } & DeadLetterCounts>;
  readonly byErrorClass: ReadonlyArray<{ readonly errorClass: string } & DeadLetterCounts>;
}
