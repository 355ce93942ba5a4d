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
  /** Gauge: 1 while this process is the source's active reader, 0 on standby. */
  CdcReaderActive: 'philotes_cdc_reader_active',
  /** Histogram: seconds to write one batch (COPY + checkpoint + commit). */
  CdcBatchFlushDuration: 'philotes_cdc_batch_flush_duration_seconds',
  /** Gauge: events of this source not yet applied by a writer (capped just above the high watermark). */
  CdcBufferDepth: 'philotes_cdc_buffer_depth',
  /** Counter: rows copied by the initial snapshot, by table. */
  CdcBackfillRows: 'philotes_cdc_backfill_rows_total',
  /** Gauge: tables whose initial copy is not finished. */
  CdcBackfillTablesPending: 'philotes_cdc_backfill_tables_pending',
  /** Counter: reconnections after a lost source or buffer connection. */
  CdcReconnects: 'philotes_cdc_reconnects_total',
} as const;

export const Label = {
  App: 'app',
  State: 'state',
  Source: 'source',
  Table: 'table',
  ErrorKind: 'error_kind',
  Mode: 'mode',
  Operation: 'op',
} as const;
