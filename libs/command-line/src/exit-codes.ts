/** What `philotes` exits with; documented in the README and in `philotes --help`. */
export const ExitCode = {
  /** Done; for verify, every table matches. */
  Ok: 0,
  /** verify found a difference. */
  Differences: 1,
  /** verify could not compare a table yet (the pipeline is behind); try again. */
  NotCompared: 2,
  /** Bad arguments or configuration: nothing was done. */
  Usage: 3,
  /** The command could not run to the end (a database or the warehouse unreachable, ...): try again. */
  CouldNotRun: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
