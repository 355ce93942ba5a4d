import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import { ConfigStore } from '@philotes/config';
import { DEAD_LETTER_STATUSES, PostgresDeadLetterStore } from '@philotes/buffer';
import type { Logger } from '@philotes/logging';
import { Label, METRICS_REGISTRY, MetricName } from '@philotes/metrics';
import { BUFFER_POOL, CONFIG_STORE, LOGGER, PipelineWorker } from '@philotes/runtime';

/**
 * Removes settled dead letters past PHILOTES_DLQ_RETENTION every PHILOTES_CDC_BUFFER_CLEANUP_INTERVAL
 * (one replica at a time), and serves the dead-letter counts by status, and the pending ones past
 * the retention (never removed), as gauges read at scrape time.
 */
@Injectable()
export class DeadLetterRetentionWorker implements PipelineWorker {
  readonly name = 'dead-letter-retention';
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly expired: Counter<string>;
  private readonly store: PostgresDeadLetterStore;

  constructor(
    @Inject(CONFIG_STORE) private readonly config: ConfigStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(BUFFER_POOL) pool: Pool,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    const store = (this.store = new PostgresDeadLetterStore(pool));
    this.expired = new Counter({ name: MetricName.DeadLettersExpired, help: 'Dead letters removed by PHILOTES_DLQ_RETENTION.', registers: [registry] });
    const counts = new Gauge({
      name: MetricName.DeadLetters,
      help: 'Dead letters by status (pending, replaying, replayed, discarded, superseded).',
      labelNames: [Label.Status],
      registers: [registry],
      async collect() {
        const byStatus = await store.countByStatus();
        counts.reset();
        for (const status of DEAD_LETTER_STATUSES) counts.set({ [Label.Status]: status }, byStatus.get(status) ?? 0);
      },
    });
    const overdue = new Gauge({
      name: MetricName.DeadLettersPendingPastRetention,
      help: 'Pending dead letters older than PHILOTES_DLQ_RETENTION: kept until an operator replays or discards them.',
      registers: [registry],
      async collect() {
        overdue.set(await store.pendingPastRetention(config.settings.dlqRetentionMs));
      },
    });
  }

  async start(): Promise<void> {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.removeExpired().finally(() => {
        if (this.timer) this.schedule(this.config.settings.bufferCleanupIntervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async removeExpired(): Promise<void> {
    try {
      const removed = await this.store.removeExpired(this.config.settings.dlqRetentionMs);
      this.expired.inc(removed);
      if (removed > 0) this.logger.info('removed dead letters past retention', { removed });
    } catch (error) {
      this.logger.warn('dead-letter retention failed; it runs again at the next interval', { error });
    }
  }
}
