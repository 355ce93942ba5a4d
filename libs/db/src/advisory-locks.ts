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
  /** Held by the writer that applies a table. Object: the table id. */
  WriterTable: 0x50484c03,
  /** Held by the one writer that runs buffer retention at a time. Object: 0. */
  BufferRetention: 0x50484c04,
  /**
   * Held by every running writer on its lease connection, so writers can count each other from
   * pg_locks; it vanishes with the connection, so a dead writer stops counting at once.
   * Object: the backend pid of that connection.
   */
  WriterMember: 0x50484c05,
  /** Held by the one dlq-admin replica that removes expired dead letters at a time. Object: 0. */
  DeadLetterRetention: 0x50484c06,
} as const;
