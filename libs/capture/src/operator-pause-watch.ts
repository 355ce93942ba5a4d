import { OperatorPause } from '@philotes/buffer';

export interface OperatorPauseWatchDeps {
  /** Reads the source's pause now (one primary-key lookup in `pipeline_controls`). */
  readonly read: () => Promise<OperatorPause | undefined>;
  /** How often the row is read; notifications only make the next read sooner. */
  readonly intervalMs: number;
  readonly log: { warn(message: string, meta?: Record<string, unknown>): void; info(message: string, meta?: Record<string, unknown>): void };
}

/**
 * Follows an operator's pause of the source. Polls the row, so a missed NOTIFY (a reconnect, a
 * notice sent before LISTEN) delays a command by one interval at most; `checkNow()` on a NOTIFY
 * makes it take effect at once. Reads never overlap, so an older answer never replaces a newer one.
 * A failed read keeps the last known pause: the buffer being briefly unreachable must not resume
 * a source the operator paused.
 */
export class OperatorPauseWatch {
  private pause?: OperatorPause;
  private listener?: (pause: OperatorPause | undefined) => void;
  private started = false;
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private again = false;
  private stopped = false;
  private failing = false;

  constructor(private readonly deps: OperatorPauseWatchDeps) {}

  /** The pause as last read. */
  get current(): OperatorPause | undefined {
    return this.pause;
  }

  /** Reads the pause once; rejects when the buffer cannot answer (the reader retries its session). */
  async load(): Promise<OperatorPause | undefined> {
    this.pause = await this.deps.read();
    return this.pause;
  }

  /** Polls from now on, calling `listener` with each change (not with the value already loaded). */
  start(listener: (pause: OperatorPause | undefined) => void): void {
    this.listener = listener;
    this.started = true;
    this.schedule();
    // A notification came while loading: its change may be newer than what was loaded.
    if (this.again) {
      this.again = false;
      this.checkNow();
    }
  }

  /** Reads now: a notification said the row changed. A read in progress is followed by another. */
  checkNow(): void {
    if (this.stopped) return;
    if (this.reading || !this.started) {
      this.again = true;
      return;
    }
    this.reading = this.refresh()
      .catch((error: unknown) => this.deps.log.warn('could not apply the operator controls of the source', { error }))
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.checkNow();
        }
      });
  }

  /** Stops polling; a read in progress reports nothing. Idempotent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Waits for a read in progress (tests, and a tidy stop). */
  async settled(): Promise<void> {
    while (this.reading) await this.reading;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.checkNow();
      this.schedule();
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    let next: OperatorPause | undefined;
    try {
      next = await this.deps.read();
    } catch (error) {
      if (!this.failing) this.deps.log.warn('cannot read the operator controls of the source; keeping the last known pause', { error });
      this.failing = true;
      return;
    }
    if (this.failing) this.deps.log.info('reading the operator controls of the source again');
    this.failing = false;
    if (this.stopped || samePause(this.pause, next)) return;
    this.pause = next;
    this.listener?.(next);
  }
}

function samePause(a: OperatorPause | undefined, b: OperatorPause | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.reason === b.reason;
}
