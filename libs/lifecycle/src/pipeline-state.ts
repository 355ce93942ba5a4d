/**
 * The lifecycle every Philotes process goes through. Who moves it:
 * - `starting`: set at boot and while (re)connecting to a database; the reason says which.
 * - `running`: the process does its work.
 * - `paused`: it holds its position without working: operator command or backpressure (reason says).
 * - `stopping`: SIGTERM received; draining (flush, final checkpoint).
 * - `stopped`: drained; the process exits next.
 * - `failed`: it cannot continue without an operator; the reason says what to do.
 */
export enum PipelineState {
  Starting = 'starting',
  Running = 'running',
  Paused = 'paused',
  Stopping = 'stopping',
  Stopped = 'stopped',
  Failed = 'failed',
}

/** The allowed transitions, the whole of them. Anything absent throws. */
export const TRANSITIONS: Readonly<Record<PipelineState, readonly PipelineState[]>> = {
  [PipelineState.Starting]: [PipelineState.Running, PipelineState.Paused, PipelineState.Stopping, PipelineState.Failed],
  // Back to starting when a connection drops and the process reconnects.
  [PipelineState.Running]: [PipelineState.Paused, PipelineState.Starting, PipelineState.Stopping, PipelineState.Failed],
  [PipelineState.Paused]: [PipelineState.Running, PipelineState.Starting, PipelineState.Stopping, PipelineState.Failed],
  [PipelineState.Stopping]: [PipelineState.Stopped, PipelineState.Failed],
  [PipelineState.Stopped]: [],
  [PipelineState.Failed]: [],
};

export const ALL_STATES: readonly PipelineState[] = Object.values(PipelineState);

export function canTransition(from: PipelineState, to: PipelineState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** A final state: the process will not work again without a restart. */
export function isTerminal(state: PipelineState): boolean {
  return TRANSITIONS[state].length === 0;
}
