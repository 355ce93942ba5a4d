import { Pool } from 'pg';
import { OPEN_STATUSES } from '../dead-letter-model';
import { BACKLOG_BYTES_SQL, FAILED_SQL, PAUSED_SQL } from './buffer-depth';
import { withIndexOrder } from '@philotes/db';

/** One running (or recently running) process, as it reports itself. */
export interface InstanceView {
  readonly instanceId: string;
  readonly app: string;
  readonly source: string | null;
  readonly state: string;
  readonly reason: string | null;
  readonly stateSince: string;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  /** Its heartbeat is recent (within three heartbeat intervals). */
  readonly alive: boolean;
  /** What the process publishes about its work (role, checkpoint LSN, lag, tables); never row values. */
  readonly details: Record<string, unknown>;
}

export interface SourceView {
  readonly source: string;
  readonly slot: string | null;
  /** Everything up to here (whole transactions) is in the buffer. */
  readonly checkpointLsn: string | null;
  readonly lastCommitTs: string | null;
  readonly checkpointUpdatedAt: string | null;
  readonly paused: boolean;
  readonly pauseReason: string | null;
}

export interface TableView {
  readonly source: string;
  readonly schema: string;
  readonly table: string;
  /** The last event applied to Iceberg. */
  readonly appliedLsn: string | null;
  readonly appliedCommitTs: string | null;
  /** Seconds since the commit of the oldest event not yet applied; 0 when caught up. */
  readonly lagSeconds: number;
  readonly initialCopy: 'requested' | 'copying' | 'done' | 'failed' | null;
  /** Paused by an operator: the table itself, or its whole source. */
  readonly paused: boolean;
  readonly pauseReason: string | null;
  /** Dead letters waiting for an operator or being replayed. */
  readonly openDeadLetters: number;
  /** Its writers gave up on it: why, and what to do (resume or resync the table brings it back). */
  readonly failure: TableFailureView | null;
  /** Payload bytes in the buffer not yet applied. */
  readonly backlogBytes: number;
  /** Paused or failed, with more backlog than PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES (still captured; nothing dropped). */
  readonly backlogOverLimit: boolean;
}

export interface TableFailureView {
  readonly kind: string;
  readonly message: string;
  readonly action: string;
  readonly attempts: number;
  readonly failedBy: string | null;
  readonly failedAt: string;
}

export interface PipelineView {
  readonly instances: readonly InstanceView[];
  readonly sources: readonly SourceView[];
  readonly tables: readonly TableView[];
}

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Processes whose last heartbeat is older than this are left out of the view (long gone). */
const FORGET_AFTER = '24 hours';

/** The whole pipeline as the buffer database knows it: processes, sources, tables. */
export async function pipelineView(pool: Pool, settings: { readonly heartbeatIntervalMs: number; readonly stoppedTableMaxBytes: number }): Promise<PipelineView> {
  const instances = await pool.query<InstanceView>(
    `SELECT instance_id AS "instanceId", app, source_id AS source, state, reason,
            ${ISO('state_since')} AS "stateSince", ${ISO('started_at')} AS "startedAt", ${ISO('heartbeat_at')} AS "heartbeatAt",
            heartbeat_at > now() - $1::bigint * interval '3 milliseconds' AS alive, details
       FROM pipeline_instances
      WHERE heartbeat_at > now() - interval '${FORGET_AFTER}'
      ORDER BY app, source_id NULLS FIRST, instance_id`,
    [settings.heartbeatIntervalMs],
  );
  const sources = await pool.query<SourceView>(
    `WITH known AS (SELECT source_id FROM cdc_checkpoints UNION SELECT source_id FROM cdc_tables UNION SELECT source_id FROM pipeline_controls)
     SELECT k.source_id AS source, c.slot_name AS slot, c.confirmed_lsn::text AS "checkpointLsn",
            ${ISO('c.last_commit_ts')} AS "lastCommitTs", ${ISO('c.updated_at')} AS "checkpointUpdatedAt",
            coalesce(pc.paused, false) AS paused, CASE WHEN pc.paused THEN pc.reason END AS "pauseReason"
       FROM known k
       LEFT JOIN cdc_checkpoints c ON c.source_id = k.source_id
       LEFT JOIN pipeline_controls pc ON pc.source_id = k.source_id AND pc.table_id IS NULL
      ORDER BY k.source_id`,
  );
  // The lag looks up each table's oldest unapplied event by the event key's index order.
  const tables = await withIndexOrder(pool, (db) =>
    db.query<TableView>(
      `SELECT t.source_id AS source, t.schema_name AS schema, t.table_name AS "table",
              p.applied_lsn::text AS "appliedLsn", ${ISO('p.applied_commit_ts')} AS "appliedCommitTs",
              greatest(0, coalesce(extract(epoch FROM clock_timestamp() - (
                SELECT e.commit_ts FROM cdc_events e
                 WHERE e.table_id = t.table_id
                   AND (e.commit_lsn, e.seq) > (coalesce(p.applied_lsn, '0/0'::pg_lsn), coalesce(p.applied_seq, -9007199254740991))
                 ORDER BY e.commit_lsn, e.seq LIMIT 1)), 0))::float8 AS "lagSeconds",
              b.status AS "initialCopy",
              coalesce(tc.paused, false) OR coalesce(sc.paused, false) AS paused,
              CASE WHEN tc.paused THEN tc.reason WHEN sc.paused THEN sc.reason END AS "pauseReason",
              (SELECT count(*) FROM cdc_dead_letters d WHERE d.table_id = t.table_id AND d.status = ANY($2::text[]))::int AS "openDeadLetters",
              (SELECT jsonb_build_object('kind', f.error_kind, 'message', f.error_message, 'action', f.action, 'attempts', f.attempts,
                                         'failedBy', f.failed_by, 'failedAt', ${ISO('f.failed_at')})
                 FROM cdc_table_failures f WHERE f.table_id = t.table_id) AS failure,
              ${BACKLOG_BYTES_SQL}::float8 AS "backlogBytes",
              (${PAUSED_SQL} OR ${FAILED_SQL}) AND ${BACKLOG_BYTES_SQL} > $1 AS "backlogOverLimit"
         FROM cdc_tables t
         LEFT JOIN cdc_writer_progress p ON p.table_id = t.table_id
         LEFT JOIN cdc_table_volume v ON v.table_id = t.table_id
         LEFT JOIN cdc_backfill b ON b.table_id = t.table_id
         LEFT JOIN pipeline_controls tc ON tc.source_id = t.source_id AND tc.table_id = t.table_id
         LEFT JOIN pipeline_controls sc ON sc.source_id = t.source_id AND sc.table_id IS NULL
        ORDER BY t.source_id, t.schema_name, t.table_name`,
      [settings.stoppedTableMaxBytes, OPEN_STATUSES],
    ),
  );
  return { instances: instances.rows, sources: sources.rows, tables: tables.rows };
}
