import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import { locateMigrations, PostgresInstanceStateStore } from '@philotes/buffer';
import { ConfigStore } from '@philotes/config';
import { migrate, readMigrations, withPoolClient } from '@philotes/db';
import { ALL_STATES, InstanceReporter, PipelineState, StateMachine } from '@philotes/lifecycle';
import type { InstanceIdentity } from '@philotes/lifecycle';
import type { Logger } from '@philotes/logging';
import { Label, METRICS_REGISTRY, MetricName } from '@philotes/metrics';
import { backoffPolicyOf, retry, RetryError } from '@philotes/retry';
import { PipelineWorker } from './pipeline-worker';
import { BUFFER_POOL, CONFIG_STORE, INSTANCE_IDENTITY, LOGGER, STATE_MACHINE } from './tokens';

/** How long workers get to drain on SIGTERM; Kubernetes' default grace period is 30 s. */
const DRAIN_DEADLINE_MS = 25_000;

/**
 * Runs a process through its lifecycle: prepare the buffer schema, start the workers, reach
 * Running; on shutdown, Stopping → drain the workers → Stopped. Every transition is logged,
 * counted and published to the buffer database.
 */
@Injectable()
export class LifecycleService {
  private readonly reporter: InstanceReporter;
  private readonly shutdown = new AbortController();
  private workers: readonly PipelineWorker[] = [];
  private startup?: Promise<void>;

  constructor(
    @Inject(STATE_MACHINE) private readonly machine: StateMachine,
    @Inject(CONFIG_STORE) private readonly config: ConfigStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(BUFFER_POOL) private readonly pool: Pool,
    @Inject(INSTANCE_IDENTITY) identity: InstanceIdentity,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    const stateGauge = new Gauge({ name: MetricName.PipelineState, help: 'Lifecycle state of this process (1 = current).', labelNames: [Label.State], registers: [registry] });
    const transitions = new Counter({ name: MetricName.PipelineTransitions, help: 'Lifecycle transitions, by the state entered.', labelNames: [Label.State], registers: [registry] });
    const showState = (current: PipelineState): void => ALL_STATES.forEach((state) => stateGauge.set({ [Label.State]: state }, state === current ? 1 : 0));
    showState(machine.state);
    machine.onTransition((t) => {
      showState(t.to);
      transitions.inc({ [Label.State]: t.to });
      const log = t.to === PipelineState.Failed ? 'error' : 'info';
      this.logger[log](`pipeline state ${t.from} → ${t.to}`, { reason: t.reason });
    });
    this.reporter = new InstanceReporter(machine, new PostgresInstanceStateStore(pool), identity, logger, () =>
      Object.assign({}, ...this.workers.map((worker) => worker.details?.() ?? {})),
    );
  }

  /** Starts in the background so health endpoints answer while we wait for dependencies. */
  start(workers: readonly PipelineWorker[]): Promise<void> {
    this.workers = workers;
    this.startup = this.run().catch((error: unknown) => {
      if (this.shutdown.signal.aborted) return;
      this.fail(`start-up failed: ${(error as Error).message}`);
    });
    return this.startup;
  }

  /** Drains the workers and records the final state. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.shutdown.signal.aborted) return;
    this.shutdown.abort(new Error('shutting down'));
    if (this.machine.can(PipelineState.Stopping)) this.machine.transition(PipelineState.Stopping, 'shutdown requested');
    await this.startup;
    let drained = true;
    for (const worker of [...this.workers].reverse()) {
      drained = (await this.drain(worker)) && drained;
    }
    if (this.machine.can(PipelineState.Stopped)) {
      this.machine.transition(PipelineState.Stopped, drained ? 'drained' : 'drain incomplete; see previous errors');
    }
    await this.reporter.stop();
  }

  /** Moves the process to Failed with a reason that says what to do. */
  fail(reason: string): void {
    if (this.machine.can(PipelineState.Failed)) this.machine.transition(PipelineState.Failed, reason);
  }

  private async run(): Promise<void> {
    if (this.config.settings.databaseMigrate) await this.prepareBufferSchema();
    // The state tables exist from here on; transitions made until now were queued.
    this.reporter.start(this.config.settings.heartbeatIntervalMs);
    for (const worker of this.workers) {
      this.shutdown.signal.throwIfAborted();
      await worker.start();
      this.logger.info('worker started', { worker: worker.name });
    }
    const selfManaged = this.workers.some((worker) => worker.managesState);
    if (!selfManaged && this.machine.state === PipelineState.Starting) this.machine.transition(PipelineState.Running);
  }

  /** Applies migrations, waiting (with backoff, until shutdown) for the buffer database to answer. */
  private async prepareBufferSchema(): Promise<void> {
    const migrations = readMigrations(locateMigrations());
    const policy = { ...backoffPolicyOf(this.config.settings), maxAttempts: Infinity };
    try {
      await retry(
        () => withPoolClient(this.pool, (client) => migrate(client, migrations, this.logger)),
        {
          policy,
          signal: this.shutdown.signal,
          onRetry: ({ attempt, error, delayMs }) =>
            this.logger.warn('waiting for the buffer database', { attempt, retryInMs: delayMs, error }),
        },
      );
    } catch (error) {
      throw error instanceof RetryError ? error.cause : error;
    }
  }

  private async drain(worker: PipelineWorker): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), DRAIN_DEADLINE_MS);
    });
    try {
      const outcome = await Promise.race([worker.stop().then(() => 'done' as const), deadline]);
      if (outcome === 'late') this.logger.error('worker did not drain in time', { worker: worker.name, deadlineMs: DRAIN_DEADLINE_MS });
      return outcome === 'done';
    } catch (error) {
      this.logger.error('worker failed to drain', { worker: worker.name, error });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
