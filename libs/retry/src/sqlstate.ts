/**
 * PostgreSQL's error codes (SQLSTATE, `code` on pg's errors), named once. The error policy, the
 * log redaction, the reader's slot checks and the buffer's duplicate check read them from here.
 */
export const SqlState = {
  UniqueViolation: '23505',
  UndefinedObject: '42704',
  ObjectNotInPrerequisiteState: '55000',
  InsufficientPrivilege: '42501',
  LockNotAvailable: '55P03',
  QueryCanceled: '57014',
  SerializationFailure: '40001',
  DeadlockDetected: '40P01',
} as const;

/** The five-character SQLSTATE of a PostgreSQL error; undefined for anything else (errno names are not). */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether the SQLSTATE is in the class (its first two characters). */
export function inSqlClass(sqlState: string | undefined, sqlClass: string): boolean {
  return sqlState !== undefined && sqlState.startsWith(sqlClass);
}

/** Data exceptions (22) and integrity violations (23) quote the offending value in their message. */
export function quotesRowValues(sqlState: string | undefined): boolean {
  return inSqlClass(sqlState, '22') || inSqlClass(sqlState, '23');
}
