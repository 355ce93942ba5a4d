import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoreRequest } from '@philotes/iceberg';
import { Label, MetricName } from '@philotes/metrics';

/** The writer's metrics, registered once per process. */
export class WriterMetrics {
  readonly rowsWritten: Counter<string>;
  readonly filesWritten: Counter<string>;
  readonly commitDuration: Histogram<string>;
  readonly commitConflicts: Counter<string>;
  readonly deadLetters: Counter<string>;
  readonly lagSeconds: Gauge<string>;
  readonly tablesOwned: Gauge<string>;
  readonly maintenance: Counter<string>;
  readonly maintenanceDuration: Histogram<string>;
  readonly compactedBytes: Counter<string>;
  readonly replays: Counter<string>;
  readonly tableFailed: Gauge<string>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rowsWritten = new Counter({ name: MetricName.WriterRowsWritten, help: 'Rows written to Iceberg data files.', labelNames: [Label.Table, Label.Mode], registers });
    this.filesWritten = new Counter({ name: MetricName.WriterFilesWritten, help: 'Data and delete files written.', labelNames: [Label.Content], registers });
    this.commitDuration = new Histogram({
      name: MetricName.WriterCommitDuration,
      help: 'Time from the first file written to the catalog commit.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.commitConflicts = new Counter({ name: MetricName.WriterCommitConflicts, help: 'Commits that lost the catalog compare-and-swap.', registers });
    this.deadLetters = new Counter({ name: MetricName.WriterDeadLetters, help: 'Events sent to the dead letters.', labelNames: [Label.ErrorKind], registers });
    this.lagSeconds = new Gauge({ name: MetricName.WriterLagSeconds, help: 'Age of the oldest event not yet applied, per table; 0 when caught up.', labelNames: [Label.Table], registers });
    this.maintenance = new Counter({
      name: MetricName.WriterMaintenance,
      help: 'Table upkeep: files compacted, snapshots expired, orphan files deleted.',
      labelNames: [Label.Action],
      registers,
    });
    this.maintenanceDuration = new Histogram({
      name: MetricName.WriterMaintenanceDuration,
      help: "Time one upkeep step (compact: a rewrite's commit, expire, remove_orphans) held a table, its commits waiting meanwhile; rewrite: a compaction's rewrite, beside the table's commits.",
      labelNames: [Label.Action],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.compactedBytes = new Counter({ name: MetricName.WriterCompactedBytes, help: 'Bytes of data files compaction rewrote.', registers });
    this.replays = new Counter({ name: MetricName.WriterReplays, help: 'Dead letters replayed, by outcome (replayed, superseded, failed).', labelNames: [Label.Outcome], registers });
    this.tableFailed = new Gauge({
      name: MetricName.WriterTableFailed,
      help: 'Tables the writers gave up on, waiting for an operator (every writer reports the whole buffer: aggregate with max).',
      labelNames: [Label.Source, Label.Table, Label.ErrorKind],
      registers,
    });
    this.tablesOwned = new Gauge({ name: MetricName.WriterTablesOwned, help: 'Tables this writer holds the lease of.', registers });
  }
}

/** The warehouse's requests as measuredStore reports them, registered once per process. */
export class StoreMetrics {
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly bytes: Counter<string>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({ name: MetricName.WriterStoreRequests, help: 'Calls of the object-store port (one per put, get, delete, or whole listing; SDK retries and pages inside a call are not seen), by operation and outcome.', labelNames: [Label.Operation, Label.Outcome], registers });
    this.duration = new Histogram({
      name: MetricName.WriterStoreRequestDuration,
      help: 'Seconds per object-store port call, by operation (a listing includes the time its caller took between items).',
      labelNames: [Label.Operation],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.bytes = new Counter({ name: MetricName.WriterStoreBytes, help: 'Bytes written to and read from the object store.', labelNames: [Label.Operation], registers });
  }

  readonly record = (request: StoreRequest): void => {
    this.requests.inc({ [Label.Operation]: request.operation, [Label.Outcome]: request.outcome });
    this.duration.observe({ [Label.Operation]: request.operation }, request.seconds);
    if (request.bytes !== undefined) this.bytes.inc({ [Label.Operation]: request.operation }, request.bytes);
  };
}
