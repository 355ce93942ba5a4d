import { PipelineState, StateMachine } from '@philotes/lifecycle';
import { formatLsn } from '@philotes/pgoutput';
import { supervise } from '@philotes/retry';
import { LagMonitor } from './lag-monitor';
import { waitToLead } from './leadership';
import type { LeaderConnection, ReaderParts, SourceRun } from './reader-parts';
import { readerGivesUp, readerRetry } from './reader-retry';
import type { ReaderMetrics } from './reader-metrics';
import type { ReaderLog, ReaderSettings } from './reader-settings';

export interface WalReaderDeps<L extends LeaderConnection = LeaderConnection> {
  /** The leader connection and the source run (PostgreSQL's: postgresReaderParts). */
  readonly parts: ReaderParts<L>;
  readonly settings: () => ReaderSettings;
  readonly machine: StateMachine;
  readonly metrics: Pick<ReaderMetrics, 'reconnects' | 'readerActive' | 'slotActive' | 'slotSafeWalBytes' | 'lagBytes' | 'lagSeconds'>;
  readonly log: ReaderLog;
  /** Moves the process to Failed (the lifecycle's own transition, with its reason). */
  readonly fail: (reason: string) => void;
  /** How often a standby tries for the leader lock; a takeover waits at most about this long. */
  readonly standbyPollMs?: number;
  /** How often the lag is measured and waiting copies looked for. */
  readonly monitorIntervalMs?: number;
}

export type ReaderRole = 'starting' | 'standby' | 'active';

/** How often a standby tries for the leader lock; a takeover waits at most about this long. */
const STANDBY_POLL_MS = 1_000;
/** A session that streamed this long resets the reconnect backoff. */
const HEALTHY_SESSION_MS = 30_000;
/** How often the lag is measured and waiting copies looked for. */
const MONITOR_INTERVAL_MS = 5_000;

/**
 * One source's reader. Waits for the source's leader lock (standing by while another reader holds
 * it), then runs the source (see SourceRun: prepared, then streamed into the buffer) for as long as
 * it leads. A lost connection is retried with backoff; a lost slot stops the reader in Failed.
 * Operator commands for its source reach the run at once; the lag is measured while it streams.
 */
export class WalReader<L extends LeaderConnection = LeaderConnection> {
  private readonly stopSignal = new AbortController();
  private running?: Promise<void>;
  private leader?: L;
  /** The source run of the current leadership. */
  private run?: SourceRun;
  private role: ReaderRole = 'starting';
  /** One per reader: its warning limit spans sessions. Measures the run streaming now. */
  private readonly lag: LagMonitor;
  private monitor?: NodeJS.Timeout;

  constructor(private readonly deps: WalReaderDeps<L>) {
    this.lag = new LagMonitor({
      slot: deps.settings().replicationSlot,
      read: () => this.run!.lagReading(),
      position: () => this.run?.lagPosition(),
      settings: () => this.deps.settings(),
      metrics: deps.metrics,
      log: deps.log,
    });
  }

  start(): void {
    this.running = this.supervise();
  }

  async stop(): Promise<void> {
    this.stopSignal.abort(new Error('reader stopping'));
    this.run?.stop();
    await this.running;
  }

  /** For readiness: streaming (or copying) as the leader, or standing by. */
  get status(): { role: ReaderRole; streaming: boolean } {
    const view = this.run?.view;
    return { role: this.role, streaming: view !== undefined && (view.streaming || view.copyProgress !== undefined) };
  }

  /** Facts for the pipeline state row and dlq-admin; never row values. */
  details(): Record<string, unknown> {
    const settings = this.deps.settings();
    const view = this.run?.view;
    const lag = view?.streaming ? this.lag.lag : undefined;
    return {
      role: this.role,
      slot: settings.replicationSlot,
      publication: settings.publication,
      ...(view?.confirmedLsn !== undefined ? { confirmedLsn: formatLsn(view.confirmedLsn) } : {}),
      ...(lag?.bytes !== undefined ? { lagBytes: lag.bytes } : {}),
      ...(lag?.seconds !== undefined ? { lagSeconds: lag.seconds } : {}),
      ...(view?.copyProgress ? { initialCopy: view.copyProgress } : {}),
      ...(view?.operatorPause ? { operatorPause: { reason: view.operatorPause.reason ?? null } } : {}),
    };
  }

  private async supervise(): Promise<void> {
    const end = await supervise('the reader session', (signal) => this.lead(signal), {
      signal: this.stopSignal.signal,
      backoff: () => this.deps.settings().backoff,
      healthyAfterMs: HEALTHY_SESSION_MS,
      release: () => this.release(),
      giveUp: readerGivesUp,
      onRetry: ({ attempt, error, directive, delayMs }) => {
        this.deps.metrics.reconnects.inc();
        this.deps.log.warn(`reconnecting after a ${directive.kind} error (attempt ${attempt}, next in ${delayMs} ms)`, { error });
        const next = readerRetry(error, directive, attempt, delayMs);
        if (next.kind === 'retry' && this.deps.machine.can(next.state)) this.deps.machine.ensure(next.state, next.reason);
      },
    });
    if (end.kind === 'gave-up') {
      this.deps.log.error('the reader cannot continue', { error: end.error });
      this.deps.fail(end.error instanceof Error ? end.error.message : String(end.error));
    }
  }

  /** Takes the leader lock (standing by until it is free), then runs the source. */
  private async lead(signal: AbortSignal): Promise<void> {
    const settings = this.deps.settings();
    const leader = await this.deps.parts.connectLeader({
      // The lock went with the connection, and with it the right to write: end the run now.
      lost: (error) => this.run?.fail(error),
      // An operator command for this source (or one this version cannot read): look at once.
      control: (source) => {
        if (source === undefined || source === settings.sourceId) this.run?.controlNotice();
      },
    });
    this.leader = leader;
    const leading = await waitToLead(
      {
        sourceId: settings.sourceId,
        lock: leader.lock,
        pollMs: this.deps.standbyPollMs ?? STANDBY_POLL_MS,
        onStandby: () => {
          this.role = 'standby';
          this.deps.metrics.readerActive.set(0);
          this.deps.log.info('standing by: another reader leads this source', { source: settings.sourceId });
          this.deps.machine.ensure(PipelineState.Running, 'standby');
        },
      },
      signal,
    );
    if (!leading) return;
    this.role = 'active';
    this.deps.metrics.readerActive.set(1);
    this.deps.log.info('leading the source', { source: settings.sourceId });
    const run = this.deps.parts.sourceRun(leader);
    this.run = run;
    this.startMonitor();
    if (signal.aborted) return;
    await run.run(signal);
  }

  private startMonitor(): void {
    clearInterval(this.monitor);
    this.monitor = setInterval(() => {
      this.lag.check().catch((error: unknown) => this.deps.log.debug('could not measure lag', { error }));
      // A lost notification delays a resync to this tick, never longer.
      this.run?.lookForCopies();
    }, this.deps.monitorIntervalMs ?? MONITOR_INTERVAL_MS);
    this.monitor.unref();
  }

  /** Closes the run and the leader connection; the leader lock goes with it. */
  private async release(): Promise<void> {
    clearInterval(this.monitor);
    // Only a streaming reader speaks for the slot (the leader's series is the truth).
    this.lag.clear();
    const run = this.run;
    const leader = this.leader;
    this.run = undefined;
    this.leader = undefined;
    // Whatever the run's close did, the lock must go (a standby is waiting for it) and the
    // reader goes on to its next session.
    await run?.close().catch((error: unknown) => this.deps.log.warn('could not close the source run cleanly', { error }));
    await leader?.end();
    if (this.role === 'active') this.deps.metrics.readerActive.set(0);
    this.role = 'starting';
  }
}
