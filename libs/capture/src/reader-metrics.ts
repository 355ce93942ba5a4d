import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Label, MetricName } from '@philotes/metrics';

/** The reader's metrics, registered once per process. */
export class ReaderMetrics {
  readonly eventsRead: Counter<string>;
  readonly eventsWritten: Counter<string>;
  readonly lagSeconds: Gauge<string>;
  readonly lagBytes: Gauge<string>;
  readonly slotActive: Gauge<string>;
  readonly slotSafeWalBytes: Gauge<string>;
  readonly readerActive: Gauge<string>;
  readonly flushDuration: Histogram<string>;
  readonly bufferUnappliedBytes: Gauge<string>;
  readonly stoppedTableBacklog: Gauge<string>;
  readonly stoppedTablesOverLimit: Gauge<string>;
  readonly backfillRows: Counter<string>;
  readonly backfillTablesPending: Gauge<string>;
  readonly reconnects: Counter<string>;
  readonly oversizedEvents: Counter<string>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.eventsRead = new Counter({ name: MetricName.CdcEventsRead, help: 'Changes decoded from the source WAL.', labelNames: [Label.Operation], registers });
    this.eventsWritten = new Counter({ name: MetricName.CdcEventsWritten, help: 'Events committed to the buffer.', registers });
    this.lagSeconds = new Gauge({ name: MetricName.CdcLagSeconds, help: 'Age of the newest source commit in the buffer; 0 when caught up.', registers });
    this.lagBytes = new Gauge({ name: MetricName.CdcLagBytes, help: 'Source WAL position minus the slot confirmed position.', registers });
    this.slotActive = new Gauge({ name: MetricName.CdcSlotActive, help: '1 while the replication slot is being streamed.', registers });
    this.slotSafeWalBytes = new Gauge({
      name: MetricName.CdcSlotSafeWalBytes,
      help: 'WAL the source may still write before the slot is lost (pg_replication_slots.safe_wal_size); absent while max_slot_wal_keep_size is unlimited.',
      labelNames: [Label.Slot],
      registers,
    });
    this.readerActive = new Gauge({ name: MetricName.CdcReaderActive, help: '1 on the active reader of the source, 0 on a standby.', registers });
    this.flushDuration = new Histogram({
      name: MetricName.CdcBatchFlushDuration,
      help: 'Time to write one batch to the buffer.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.bufferUnappliedBytes = new Gauge({ name: MetricName.CdcBufferUnappliedBytes, help: 'Payload bytes of this source that writers may apply now and have not (paused, failed and copying tables left out).', registers });
    this.stoppedTableBacklog = new Gauge({ name: MetricName.CdcStoppedTableBacklogBytes, help: 'Unapplied payload bytes of a paused or failed table.', labelNames: [Label.Table, Label.StoppedBy], registers });
    this.stoppedTablesOverLimit = new Gauge({ name: MetricName.CdcStoppedTablesOverLimit, help: 'Paused or failed tables whose backlog passed PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES.', registers });
    this.backfillRows = new Counter({ name: MetricName.CdcBackfillRows, help: 'Rows copied by the initial snapshot.', labelNames: [Label.Table], registers });
    this.backfillTablesPending = new Gauge({ name: MetricName.CdcBackfillTablesPending, help: 'Tables whose initial copy is not finished.', registers });
    this.oversizedEvents = new Counter({ name: MetricName.CdcOversizedEvents, help: 'Changes over PHILOTES_CDC_MAX_EVENT_BYTES, stored as their size only (for the dead letters).', labelNames: [Label.Table], registers });
    this.reconnects = new Counter({ name: MetricName.CdcReconnects, help: 'Reconnections after a lost connection.', registers });
  }
}
