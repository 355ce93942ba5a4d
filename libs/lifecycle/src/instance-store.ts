import { PipelineState } from './pipeline-state';
import { Transition } from './state-machine';

/** Who a process is, as dlq-admin lists it. */
export interface InstanceIdentity {
  readonly instanceId: string;
  /** `wal-reader`, `iceberg-writer` or `dlq-admin`. */
  readonly app: string;
  /** The source a reader reads or a writer serves; undefined for processes not tied to one. */
  readonly sourceId?: string;
  readonly startedAt: Date;
}

export interface InstanceSnapshot {
  readonly state: PipelineState;
  readonly reason?: string;
  readonly stateSince: Date;
  /** App-specific facts for operators (slot held, tables owned, lag); never row values. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** Port: where processes publish their state so others (dlq-admin) can read it. */
export interface InstanceStateStore {
  /** Upserts the instance row and appends the transitions, in order, in one transaction. */
  record(identity: InstanceIdentity, snapshot: InstanceSnapshot, transitions: readonly Transition[]): Promise<void>;
}
