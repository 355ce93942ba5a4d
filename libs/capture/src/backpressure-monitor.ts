import type { SourceBacklog } from '@philotes/buffer';
import { BackpressureSettings, limitCrossings, nextBackpressure, overLimit } from './backpressure';
import type { ReaderMetrics } from './reader-metrics';

export interface BackpressureMonitorSettings extends BackpressureSettings {
  readonly backpressureEnabled: boolean;
}

export interface BackpressureMonitorDeps {
  /** Reads the source's backlog from the buffer (the Postgres one is sourceBacklog). */
  readonly backlog: () => Promise<SourceBacklog>;
  readonly settings: () => BackpressureMonitorSettings;
  readonly metrics: Pick<ReaderMetrics, 'bufferUnappliedBytes' | 'stoppedTableBacklog' | 'stoppedTablesOverLimit'>;
  readonly log: { warn(message: string, meta?: Record<string, unknown>): void; info(message: string, meta?: Record<string, unknown>): void };
  /** The hold changed: its reason while held, undefined once released. */
  readonly onChange: (reason: string | undefined) => void;
}

/**
 * Measures the source's unapplied buffer on each check and decides the backpressure hold (see
 * nextBackpressure), reports the backlog of paused and failed tables apart, and logs once each way
 * as a stopped table crosses its limit. The session only applies the hold it is told.
 */
export class BackpressureMonitor {
  private hold?: string;
  private over: ReadonlySet<number> = new Set();

  constructor(private readonly deps: BackpressureMonitorDeps) {}

  /** The reason backpressure holds the reader now; undefined when it does not. */
  get reason(): string | undefined {
    return this.hold;
  }

  /** One measurement; a failed read is logged and changes nothing (the next check tries again). */
  async check(): Promise<void> {
    let backlog: SourceBacklog;
    try {
      backlog = await this.deps.backlog();
    } catch (error) {
      this.deps.log.warn('could not measure the buffer backlog', { error });
      return;
    }
    const settings = this.deps.settings();
    const { metrics } = this.deps;
    metrics.bufferUnappliedBytes.set(backlog.flowingBytes);
    metrics.stoppedTableBacklog.reset();
    for (const table of backlog.stopped) metrics.stoppedTableBacklog.set({ table: `${table.schema}.${table.table}`, stopped_by: table.stoppedBy }, table.backlogBytes);
    this.reportOverLimit(overLimit(backlog, settings), settings.backpressureStoppedTableMaxBytes);
    const next = settings.backpressureEnabled ? nextBackpressure(this.hold, backlog.flowingBytes, settings) : undefined;
    if (next !== this.hold) {
      this.hold = next;
      this.deps.onChange(next);
    }
  }

  /** Paused or failed tables past their backlog limit: counted, and logged once as each crosses. */
  private reportOverLimit(over: ReturnType<typeof overLimit>, limit: number): void {
    const { crossed, back } = limitCrossings(this.over, over);
    for (const table of crossed) {
      this.deps.log.warn('a stopped table piled up more than its limit in the buffer; still capturing it, nothing is dropped: resume or resync it, or raise PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES', {
        table: `${table.schema}.${table.table}`, stoppedBy: table.stoppedBy, backlogBytes: table.backlogBytes, limitBytes: limit,
      });
    }
    for (const tableId of back) this.deps.log.info('a stopped table is back under its backlog limit', { tableId });
    this.over = new Set(over.map((table) => table.tableId));
    this.deps.metrics.stoppedTablesOverLimit.set(over.length);
  }
}
