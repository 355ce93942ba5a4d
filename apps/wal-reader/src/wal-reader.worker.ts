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
import { ReaderMetrics, ReaderSettings, WalReader } from '@philotes/capture';
import { SOURCE_POOL } from './source-pool';

/** The reader as the lifecycle runs it: started after boot, drained on SIGTERM. */
@Injectable()
export class WalReaderWorker implements PipelineWorker {
  readonly name = 'wal-reader';
  readonly managesState = true;
  readonly reader: WalReader;

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
    this.reader = new WalReader({
      source: sourceConnection(settings),
      bufferUrl: settings.databaseUrl,
      bufferPool,
      sourcePool,
      // Read on every use, so reloadable settings (batch size, flush interval, watermarks) apply live.
      settings: () => current,
      machine,
      metrics: new ReaderMetrics(registry),
      faults,
      log: logger,
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
