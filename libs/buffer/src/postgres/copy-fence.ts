/** A copy's batch or finish for a generation the table no longer holds: the copy was planned again. */
export class CopyFencedError extends Error {
  readonly code = 'PHILOTES_COPY_FENCED';
  constructor(table: number, generation: number) {
    super(`table ${table}: its copy of generation ${generation} was planned again; this one stops`);
  }
}
