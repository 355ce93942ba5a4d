import { canTransition, PipelineState } from './pipeline-state';

export interface Transition {
  readonly from: PipelineState;
  readonly to: PipelineState;
  readonly reason?: string;
  readonly at: Date;
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: PipelineState,
    readonly to: PipelineState,
  ) {
    super(`illegal pipeline state transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export type TransitionListener = (transition: Transition) => void;

/**
 * Holds one process's state and enforces {@link TRANSITIONS}. Listeners (persistence, logging,
 * metrics) run synchronously after each transition; one failing listener does not stop the others
 * or undo the transition, it is reported to `onListenerError`.
 */
export class StateMachine {
  private current: PipelineState;
  private currentReason?: string;
  private currentSince: Date;
  private readonly listeners = new Set<TransitionListener>();

  constructor(
    private readonly onListenerError: (error: unknown, transition: Transition) => void = () => undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.current = PipelineState.Starting;
    this.currentSince = this.now();
  }

  get state(): PipelineState {
    return this.current;
  }

  get reason(): string | undefined {
    return this.currentReason;
  }

  get since(): Date {
    return this.currentSince;
  }

  can(to: PipelineState): boolean {
    return canTransition(this.current, to);
  }

  /** Moves to `to`; throws {@link IllegalTransitionError} if the table forbids it. */
  transition(to: PipelineState, reason?: string): Transition {
    if (!canTransition(this.current, to)) throw new IllegalTransitionError(this.current, to);
    const transition: Transition = { from: this.current, to, reason, at: this.now() };
    this.current = to;
    this.currentReason = reason;
    this.currentSince = transition.at;
    for (const listener of this.listeners) {
      try {
        listener(transition);
      } catch (error) {
        this.onListenerError(error, transition);
      }
    }
    return transition;
  }

  /**
   * Moves to `to` unless already there (then only the reason is updated); returns whether it moved.
   * For idempotent callers: pausing twice, "running: standby" becoming "running: streaming".
   */
  ensure(to: PipelineState, reason?: string): boolean {
    if (this.current === to) {
      this.currentReason = reason;
      return false;
    }
    this.transition(to, reason);
    return true;
  }

  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
