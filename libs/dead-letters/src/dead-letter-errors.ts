/** No dead letter (or source, or table) has that identity. */
export class NotFoundError extends Error {
  constructor(readonly what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** The request would move something from a state that does not allow it (replaying a discarded letter, say). */
export class StateConflictError extends Error {
  constructor(
    message: string,
    readonly current: string,
  ) {
    super(message);
    this.name = 'StateConflictError';
  }
}

/** A request beyond a configured bound, naming the field. */
export class OutOfBoundsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'OutOfBoundsError';
  }
}
