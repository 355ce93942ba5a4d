import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { ConfigStore, sourceConnection } from '@philotes/config';
import { FaultInjector } from '@philotes/faults';
import { StateMachine } from '@philotes/lifecycle';
import type { Logger } from '@philotes/logging';
import { METRICS_REGISTRY } from '@philotes/metrics';
import { backoffPolicyOf } from '@philotes/retry';
import { BUFFER_POOL, CONFIG_STORE, FAULTS, LifecycleService, LOGGER, PipelineWorker, STATE_MACHINE } from '@philotes/runtime';
import { postgresReaderParts, PostgresLeader, ReaderMetrics, ReaderSettings, WalReader } from '@philotes/capture';
import { SOURCE_POOL } from './source-pool';

/** The reader as the lifecycle runs it: started after boot, drained on SIGTERM. */
@Injectable()
export class WalReaderWorker implements PipelineWorker {
  readonly name = 'wal-reader';
  readonly managesState = true;
  readonly reader: WalReader<PostgresLeader>;

  constructor(
    @Inject(CONFIG_STORE) config: ConfigStore,
    @Inject(LOGGER) logger: Logger,
    @Inject(STATE_MACHINE) machine: StateMachine,
    @Inject(BUFFER_POOL) bufferPool: Pool,
    @Inject(SOURCE_POOL) sourcePool: Pool,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(FAULTS) faults: FaultInjector,
    lifecycle: LifecycleService,
  ) {
    const settings = config.settings;
    // Derived once and again on each reload: the reader reads it per message, so it must be cheap.
    const derive = (): ReaderSettings => ({ ...config.settings, backoff: { ...backoffPolicyOf(config.settings), maxAttempts: Infinity } });
    let current = derive();
    config.onChange(() => {
      current = derive();
    });
    const log = logger;
    const metrics = new ReaderMetrics(registry);
    // Read on every use, so reloadable settings (batch size, flush interval, watermarks) apply live.
    const readerSettings = () => current;
    this.reader = new WalReader({
      parts: postgresReaderParts({ source: sourceConnection(settings), bufferUrl: settings.databaseUrl, bufferPool, sourcePool, settings: readerSettings, machine, metrics, faults, log }),
      settings: readerSettings,
      machine,
      metrics,
      log,
      fail: (reason) => lifecycle.fail(reason),
    });
  }

  async start(): Promise<void> {
    this.reader.start();
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }

  details(): Record<string, unknown> {
    return this.reader.details();
  }
}
