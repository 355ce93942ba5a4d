import { JsonValue } from '@philotes/pg-types';
import { DeadLetterStatus } from './dead-letter-filter';

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

/** The columns a summary is read from (`d` dead letters, `t` tables), microseconds kept as text. */
export const SUMMARY_COLUMNS = `
  d.id::text AS id, t.source_id AS source, t.schema_name AS schema, t.table_name AS "table", d.op,
  d.commit_lsn::text AS "commitLsn", d.seq::text AS seq, d.xid::text AS xid,
  to_char(d.commit_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "commitTs",
  d.schema_version AS "schemaVersion", d.error_kind AS "errorClass", d.error_message AS "errorMessage",
  d.attempts, d.status, d.status_reason AS "statusReason",
  to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt",
  to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "updatedAt"`;
