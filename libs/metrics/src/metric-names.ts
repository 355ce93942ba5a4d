/**
 * Every metric name and label key Philotes exports. Names follow Prometheus conventions
 * (`_total` counters, `_seconds` / `_bytes` units); labels are low-cardinality (app, state, table,
 * error kind), never row values or unbounded ids.
 */
export const MetricName = {
  /** Gauge: 1 for the state the process is in, 0 for the others. */
  PipelineState: 'philotes_pipeline_state',
  /** Counter: state transitions, by target state. */
  PipelineTransitions: 'philotes_pipeline_transitions_total',

  // wal-reader
  /** Counter: changes decoded from the WAL, by operation. */
  CdcEventsRead: 'philotes_cdc_events_read_total',
  /** Counter: events committed to the buffer. */
  CdcEventsWritten: 'philotes_cdc_events_written_total',
  /** Gauge: seconds between now and the commit time of the newest source transaction in the buffer; 0 when caught up. */
  CdcLagSeconds: 'philotes_cdc_lag_seconds',
  /** Gauge: source WAL position minus the slot's confirmed position. */
  CdcLagBytes: 'philotes_cdc_lag_bytes',
  /** Gauge: 1 while the replication slot is active (streamed by this or another reader). */
  CdcSlotActive: 'philotes_cdc_slot_active',
  /** Gauge: WAL the source may still write before the slot is lost (safe_wal_size), by slot; absent when unlimited. */
  CdcSlotSafeWalBytes: 'philotes_cdc_slot_safe_wal_bytes',
  /** Gauge: 1 while this process is the source's active reader, 0 on standby. */
  CdcReaderActive: 'philotes_cdc_reader_active',
  /** Histogram: seconds to write one batch (COPY + checkpoint + commit). */
  CdcBatchFlushDuration: 'philotes_cdc_batch_flush_duration_seconds',
  /** Gauge: payload bytes of this source writers may apply now and have not (what backpressure weighs). */
  CdcBufferUnappliedBytes: 'philotes_cdc_buffer_unapplied_bytes',
  /** Gauge: unapplied payload bytes of each paused or failed table, by table and stopped_by. */
  CdcStoppedTableBacklogBytes: 'philotes_cdc_stopped_table_backlog_bytes',
  /** Gauge: paused or failed tables whose backlog passed PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES. */
  CdcStoppedTablesOverLimit: 'philotes_cdc_stopped_tables_over_limit',
  /** Counter: rows copied by the initial snapshot, by table. */
  CdcBackfillRows: 'philotes_cdc_backfill_rows_total',
  /** Gauge: tables whose initial copy is not finished. */
  CdcBackfillTablesPending: 'philotes_cdc_backfill_tables_pending',
  /** Counter: changes over PHILOTES_CDC_MAX_EVENT_BYTES, stored as their size only, by table. */
  CdcOversizedEvents: 'philotes_cdc_oversized_events_total',
  /** Counter: reconnections after a lost source or buffer connection. */
  CdcReconnects: 'philotes_cdc_reconnects_total',

  // iceberg-writer
  /** Counter: rows written to Iceberg data files, by table and mode. */
  WriterRowsWritten: 'philotes_writer_rows_written_total',
  /** Counter: files written, by content (data, deletes). */
  WriterFilesWritten: 'philotes_writer_files_written_total',
  /** Histogram: seconds from the first file written to the catalog commit. */
  WriterCommitDuration: 'philotes_writer_commit_duration_seconds',
  /** Counter: commits that lost the catalog compare-and-swap. */
  WriterCommitConflicts: 'philotes_writer_commit_conflicts_total',
  /** Counter: events sent to the dead letters, by error kind. */
  WriterDeadLetters: 'philotes_writer_dead_letters_total',
  /** Gauge: seconds since the commit of the oldest event not yet applied, per table; 0 when caught up. */
  WriterLagSeconds: 'philotes_writer_lag_seconds',
  /** Counter: table upkeep by action (files_compacted, snapshots_expired, orphans_deleted). */
  WriterMaintenance: 'philotes_writer_maintenance_total',
  /** Histogram: seconds one upkeep step (compact, expire, remove_orphans) holds a table, its commits waiting meanwhile, by action; `rewrite` is a compaction's rewrite, which runs beside the commits. */
  WriterMaintenanceDuration: 'philotes_writer_maintenance_duration_seconds',
  /** Counter: bytes of data files compaction rewrote. */
  WriterCompactedBytes: 'philotes_writer_compacted_bytes_total',
  /** Counter: applied events removed from the buffer by retention. */
  BufferEventsRemoved: 'philotes_buffer_events_removed_total',
  /** Counter: cdc_events partitions dropped whole by retention (every event in them applied). */
  BufferPartitionsDropped: 'philotes_buffer_partitions_dropped_total',
  /** Gauge: tables whose lease this writer holds. */
  WriterTablesOwned: 'philotes_writer_tables_owned',
  /** Gauge: 1 for each table its writers gave up on (failed: waits for an operator's resume or resync), by table and error kind. */
  WriterTableFailed: 'philotes_writer_table_failed',
  /** Counter: dead letters replayed by the writer, by outcome (replayed, superseded, failed). */
  WriterReplays: 'philotes_writer_replays_total',
  /** Counter: requests to the warehouse's object store, by op (put, get, list, delete) and outcome (ok, error). */
  WriterStoreRequests: 'philotes_writer_store_requests_total',
  /** Histogram: seconds per object-store request, by op. */
  WriterStoreRequestDuration: 'philotes_writer_store_request_duration_seconds',
  /** Counter: bytes moved to and from the object store, by op (put, get). */
  WriterStoreBytes: 'philotes_writer_store_bytes_total',

  // dlq-admin
  /** Gauge: dead letters by status (pending, replaying, replayed, discarded, superseded), refreshed on scrape. */
  DeadLetters: 'philotes_dead_letters',
  /** Counter: settled dead letters (replayed, discarded, superseded) removed by PHILOTES_DLQ_RETENTION. */
  DeadLettersExpired: 'philotes_dead_letters_expired_total',
  /** Gauge: pending dead letters older than PHILOTES_DLQ_RETENTION (kept: nobody decided), refreshed on scrape. */
  DeadLettersPendingPastRetention: 'philotes_dead_letters_pending_past_retention',
} as const;

export const Label = {
  App: 'app',
  State: 'state',
  Source: 'source',
  Table: 'table',
  ErrorKind: 'error_kind',
  Mode: 'mode',
  Operation: 'op',
  Content: 'content',
  Action: 'action',
  Outcome: 'outcome',
  Status: 'status',
  StoppedBy: 'stopped_by',
  Slot: 'slot',
} as const;
