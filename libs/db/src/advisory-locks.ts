/**
 * Every advisory lock Philotes takes on the buffer database, in one place so two purposes can never
 * share a key by accident. PostgreSQL's two-key form is used: (space, object), where the space says
 * what kind of thing is locked and the object which one (a stable hash of its name, or a constant).
 */
export const LockSpace = {
  /** Held while migrations run, so processes starting together apply them once. Object: 0. */
  Migrations: 0x50484c01,
  /** Held by the one active reader of a source for as long as it reads. Object: hash of the source id. */
  SourceReader: 0x50484c02,
} as const;
