import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { PostgresTableBuffer, WriterProgress } from '@philotes/buffer';
import { ConfigStore } from '@philotes/config';
import { FaultInjector } from '@philotes/faults';
import { IcebergTables } from '@philotes/iceberg';
import type { Logger } from '@philotes/logging';
import { METRICS_REGISTRY } from '@philotes/metrics';
import type { InstanceIdentity } from '@philotes/lifecycle';
import { BUFFER_POOL, CONFIG_STORE, FAULTS, INSTANCE_IDENTITY, LOGGER, PipelineWorker } from '@philotes/runtime';
import { BufferRetention, CachedKeyIndex, IcebergUpkeep, PostgresKeyIndex, postgresWriterBuffer, TableWriter, WriterMetrics, WriterService, writerSettingsOf } from '@philotes/writer';

/** The writer as the lifecycle runs it: started after boot; on SIGTERM it finishes its commits. */
@Injectable()
export class IcebergWriterWorker implements PipelineWorker {
  readonly name = 'iceberg-writer';
  readonly service: WriterService;

  constructor(
    @Inject(CONFIG_STORE) config: ConfigStore,
    @Inject(LOGGER) logger: Logger,
    @Inject(BUFFER_POOL) pool: Pool,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(FAULTS) faults: FaultInjector,
    @Inject(INSTANCE_IDENTITY) identity: InstanceIdentity,
    tables: IcebergTables,
  ) {
    let current = writerSettingsOf(config.settings);
    config.onChange(() => {
      current = writerSettingsOf(config.settings);
    });
    const settings = () => current;
    const metrics = new WriterMetrics(registry);
    // The buffer database as the table writers see it, shared by every table writer of this process.
    const buffer = new PostgresTableBuffer(pool);
    // Upsert tables deleting by position: their keys' rows, in the buffer database (lookups read through the pool),
    // the recent ones remembered by this process.
    const stored = new PostgresKeyIndex(pool);
    const keyIndex = config.settings.icebergKeyIndexCacheKeys > 0 ? new CachedKeyIndex(stored, config.settings.icebergKeyIndexCacheKeys) : stored;
    this.service = new WriterService({
      buffer: postgresWriterBuffer(pool, config.settings.databaseUrl),
      tableWriter: (ref) => new TableWriter(ref, { buffer, tables, settings, metrics, faults, log: logger, keyIndex }),
      progress: new WriterProgress(pool),
      settings,
      metrics,
      log: logger,
      upkeep: new IcebergUpkeep({ pool, buffer, tables, settings, metrics, faults, log: logger, keyIndex }),
      bufferUpkeep: new BufferRetention({ pool, settings, registry, log: logger }),
      instanceId: identity.instanceId,
    });
  }

  async start(): Promise<void> {
    this.service.start();
  }

  stop(): Promise<void> {
    return this.service.stop();
  }

  details(): Record<string, unknown> {
    return this.service.details();
  }
}
