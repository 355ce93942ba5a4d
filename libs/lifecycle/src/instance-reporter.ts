import { InstanceIdentity, InstanceStateStore } from './instance-store';
import { StateMachine, Transition } from './state-machine';

export interface ReporterLog {
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

/** Transitions kept while the buffer database is unreachable; the oldest go first past this. */
const MAX_PENDING_TRANSITIONS = 100;

/**
 * Publishes a process's state: on every transition and on a heartbeat interval. Writes are
 * serialised so the stored row always ends on the latest state. While the buffer database is down
 * the process keeps working; transitions queue (bounded) and go out with the next successful write.
 */
export class InstanceReporter {
  private pending: Transition[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private started = false;
  private failing = false;

  /** Collects transitions from construction on; writes begin with {@link start}. */
  constructor(
    private readonly machine: StateMachine,
    private readonly store: InstanceStateStore,
    private readonly identity: InstanceIdentity,
    private readonly log: ReporterLog,
    private readonly details: () => Record<string, unknown> = () => ({}),
  ) {
    this.unsubscribe = this.machine.onTransition((transition) => {
      this.pending.push(transition);
      if (this.pending.length > MAX_PENDING_TRANSITIONS) this.pending.shift();
      if (this.started) void this.publish();
    });
  }

  /** Starts writing: now, on every transition, and every `intervalMs` (the heartbeat). */
  start(intervalMs: number): void {
    this.started = true;
    this.timer = setInterval(() => void this.publish(), intervalMs);
    this.timer.unref();
    void this.publish();
  }

  /** Writes the current state now and waits for it (and any write before it) to finish. */
  publish(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  /** Stops the heartbeat after one last write of the current state. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe();
    await this.publish();
  }

  private async write(): Promise<void> {
    const transitions = this.pending;
    this.pending = [];
    try {
      await this.store.record(
        this.identity,
        { state: this.machine.state, reason: this.machine.reason, stateSince: this.machine.since, details: this.details() },
        transitions,
      );
      if (this.failing) this.log.info('recording pipeline state again');
      this.failing = false;
      this.log.debug('pipeline state recorded', { state: this.machine.state, transitions: transitions.length });
    } catch (error) {
      this.pending = [...transitions, ...this.pending].slice(-MAX_PENDING_TRANSITIONS);
      if (!this.failing) this.log.warn('cannot record pipeline state; will retry on the next heartbeat', { error: (error as Error).message });
      this.failing = true;
    }
  }
}
