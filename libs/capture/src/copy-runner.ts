import { CopyFence, CopyTarget, InitialCopy } from './initial-copy';

export interface CopyRunnerDeps {
  readonly copy: InitialCopy;
  readonly fence: CopyFence;
  /** The tables due for a copy now (read afresh each time: the catalog and the buffer decide). */
  readonly due: () => Promise<CopyTarget[]>;
  readonly log: { info(message: string, meta?: Record<string, unknown>): void };
  /** A copy that failed (not a table refused for good, which waits on its own): the session ends with it. */
  readonly fail: (error: unknown) => void;
}

/**
 * Runs copies beside a streaming session, one at a time: a table that joined the publication, was
 * created again or is resynced is copied while every other table keeps streaming. `wake` asks it
 * to look for copies due (at the session's start, when the stream describes a table no copy
 * covers, on an operator's command, on the reader's monitor tick).
 */
export class CopyRunner {
  private readonly stopSignal = new AbortController();
  private wanted = true;
  private wakeUp?: () => void;
  private readonly done: Promise<void>;

  constructor(private readonly deps: CopyRunnerDeps) {
    this.done = this.loop();
  }

  wake(): void {
    this.wanted = true;
    this.wakeUp?.();
  }

  /** Ends the copy under way (its connections close) and waits for it. */
  async stop(): Promise<void> {
    this.stopSignal.abort(new Error('the session ended'));
    this.wakeUp?.();
    await this.done;
  }

  private async loop(): Promise<void> {
    const signal = this.stopSignal.signal;
    while (!signal.aborted) {
      if (!this.wanted) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.wakeUp = undefined;
        continue;
      }
      this.wanted = false;
      try {
        const due = await this.deps.due();
        if (due.length === 0 || signal.aborted) continue;
        this.deps.log.info('copying tables beside the stream', { tables: due.map((t) => ({ table: `${t.schema}.${t.table}`, reason: t.reason })) });
        await this.deps.copy.run(due, { beside: this.deps.fence }, signal);
      } catch (error) {
        if (!signal.aborted) this.deps.fail(error);
        return;
      }
    }
  }
}
