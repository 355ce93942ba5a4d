/**
 * Every advisory lock Philotes takes on the buffer database, in one place so two purposes can never
 * share a key by accident. PostgreSQL's two-key form is used: (namespace, object).
 * The namespace 0x50484C54 spells "PHLT"; the object says what is locked.
 */
export const LOCK_NAMESPACE = 0x50484c54;

export const LockObject = {
  /** Held while migrations run, so processes starting together apply them once. */
  Migrations: 1,
} as const;
