/**
 * A long-running piece of an app's work (reading the WAL, writing a table). The lifecycle starts
 * workers once the process is up and stops them, in reverse order, on SIGTERM.
 */
export interface PipelineWorker {
  readonly name: string;
  /**
   * The worker moves the state machine itself (a reader is `running` only once it streams or stands
   * by); otherwise the lifecycle marks the process running as soon as the workers have started.
   */
  readonly managesState?: boolean;
  /** Facts for the pipeline state row (role, positions, progress); never row values. */
  details?(): Record<string, unknown>;
  /** Begins the work; resolves once it is under way (the work itself continues in the background). */
  start(): Promise<void>;
  /** Finishes what is in flight (flush, final checkpoint) and resolves when exiting loses nothing. */
  stop(): Promise<void>;
}
