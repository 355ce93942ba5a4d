import { inSqlClass, SqlState, sqlStateOf } from './sqlstate';

/**
 * How an error is recovered from:
 * - `timed`: retried with backoff; it clears by itself (a connection, a lock, a restart, a full disk freed);
 * - `operator`: retrying cannot fix it until somebody changes something (a grant, a setting, the
 *   warehouse, a resync); the work waits, with `action` saying what to do;
 * - `never`: the event itself can never be written as it is; it goes to the dead letters.
 */
export type Recovery = 'timed' | 'operator' | 'never';

/**
 * What to do about an error. `kind` names the error class in dead letters and metrics (low
 * cardinality); `action` tells the operator what to do; `retry` is `recovery === 'timed'`. Made by
 * timedRetry, needsOperator and neverRetry only, so the two cannot disagree.
 */
export interface ErrorDirective {
  readonly retry: boolean;
  readonly recovery: Recovery;
  readonly kind: ErrorKind;
  readonly action: string;
}

export const timedRetry = (kind: ErrorKind, action: string): ErrorDirective => ({ retry: true, recovery: 'timed', kind, action });
export const needsOperator = (kind: ErrorKind, action: string): ErrorDirective => ({ retry: false, recovery: 'operator', kind, action });
export const neverRetry = (kind: ErrorKind, action: string): ErrorDirective => ({ retry: false, recovery: 'never', kind, action });

export type ErrorKind =
  | 'connection'
  | 'concurrency'
  | 'resources'
  | 'server-shutdown'
  | 'conflict'
  | 'storage'
  | 'data'
  | 'constraint'
  | 'schema'
  | 'authorization'
  | 'configuration'
  | 'poison'
  | 'oversized'
  | 'unknown';

/** An error that knows its own directive (poison events, catalog conflicts, lost slots). */
export class ClassifiedError extends Error {
  constructor(
    message: string,
    readonly directive: ErrorDirective,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}


interface PolicyRow {
  /** What the row matches, for reading the table. */
  readonly when: string;
  readonly matches: (error: ErrorFacts) => boolean;
  readonly directive: ErrorDirective;
}

interface ErrorFacts {
  /** SQLSTATE for PostgreSQL errors (`pg` sets `code`), errno name for Node system errors. */
  readonly code?: string;
  readonly message: string;
  /** An object store's error: its error code (`name` in the AWS SDK: AccessDenied, NoSuchBucket, ...) and HTTP status. */
  readonly store?: { readonly name: string; readonly status: number };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);
const sqlClass = (prefix: string) => (e: ErrorFacts) => inSqlClass(sqlStateOf(e), prefix);
const sqlState = (...codes: string[]) => (e: ErrorFacts) => e.code !== undefined && codes.includes(e.code);
const errno = sqlState;
const storeError = (...names: string[]) => (e: ErrorFacts) => e.store !== undefined && names.includes(e.store.name);
const storeStatus = (test: (status: number) => boolean) => (e: ErrorFacts) => e.store !== undefined && test(e.store.status);
const WAREHOUSE_ACCESS = 'give the writer access to the warehouse (credentials, bucket policy, directory permissions), then resume the table';
const WAREHOUSE_MISSING = 'check PHILOTES_ICEBERG_WAREHOUSE and the bucket or directory it names, then resume the table';

/** First matching row wins. Errors that match nothing are retried: a bounded retry costs little. */
export const ERROR_POLICY: readonly PolicyRow[] = [
  { when: 'network error', matches: (e) => e.code !== undefined && NETWORK_CODES.has(e.code), directive: timedRetry('connection', 'check that the database is up and reachable') },
  { when: 'connection dropped', matches: (e) => /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e.message), directive: timedRetry('connection', 'check that the database is up and reachable') },
  { when: 'SQLSTATE 08 connection exception', matches: sqlClass('08'), directive: timedRetry('connection', 'check that the database is up and reachable') },
  { when: 'SQLSTATE 40001 / 40P01 serialization, deadlock', matches: sqlState(SqlState.SerializationFailure, SqlState.DeadlockDetected), directive: timedRetry('concurrency', 'none; retried automatically') },
  { when: 'SQLSTATE 55P03 lock not available', matches: sqlState(SqlState.LockNotAvailable), directive: timedRetry('concurrency', 'none; retried automatically') },
  { when: 'SQLSTATE 53 insufficient resources', matches: sqlClass('53'), directive: timedRetry('resources', 'the database is out of disk, memory or connections; free some') },
  { when: 'SQLSTATE 57P01-57P05 server shutting down', matches: sqlState('57P01', '57P02', '57P03', '57P04', '57P05'), directive: timedRetry('server-shutdown', 'the database is restarting; wait') },
  { when: 'SQLSTATE 57014 query cancelled', matches: sqlState(SqlState.QueryCanceled), directive: timedRetry('server-shutdown', 'a statement was cancelled; check statement_timeout') },
  { when: 'SQLSTATE 28 invalid authorization', matches: sqlClass('28'), directive: needsOperator('authorization', 'check the user name and password') },
  { when: 'SQLSTATE 42501 insufficient privilege', matches: sqlState(SqlState.InsufficientPrivilege), directive: needsOperator('authorization', 'grant the missing privilege to the configured user') },
  { when: 'SQLSTATE 22 data exception', matches: sqlClass('22'), directive: neverRetry('data', 'the value cannot be stored as is; inspect the event') },
  { when: 'SQLSTATE 23 integrity constraint', matches: sqlClass('23'), directive: neverRetry('constraint', 'the change breaks a constraint; inspect the event') },
  { when: 'SQLSTATE 42 syntax or schema error', matches: sqlClass('42'), directive: needsOperator('schema', 'a table or column is missing or changed; check migrations and the source schema') },
  // Storage: an object store's error response, or a file system's errno. Never `unknown`.
  { when: 'store refuses access (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, 401, 403)', matches: (e) => storeError('AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled', 'InvalidToken', 'ExpiredToken')(e) || storeStatus((s) => s === 401 || s === 403)(e), directive: needsOperator('storage', WAREHOUSE_ACCESS) },
  { when: 'store has no such bucket (NoSuchBucket, PermanentRedirect: another region)', matches: storeError('NoSuchBucket', 'PermanentRedirect', 'AuthorizationHeaderMalformed'), directive: needsOperator('storage', WAREHOUSE_MISSING) },
  { when: 'store has no such object (NoSuchKey, 404)', matches: (e) => storeError('NoSuchKey', 'NotFound')(e) || storeStatus((s) => s === 404)(e), directive: needsOperator('storage', 'a file the table\'s metadata names is missing from the warehouse: restore it, or resync the table') },
  { when: 'store throttles or fails (SlowDown, RequestTimeout, 5xx)', matches: (e) => storeError('SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable')(e) || storeStatus((s) => s === 429 || s >= 500)(e), directive: timedRetry('storage', 'the object store is throttling or failing; retried with backoff') },
  { when: 'store refuses the request otherwise (4xx)', matches: storeStatus((s) => s >= 400 && s < 500), directive: needsOperator('storage', 'the object store refused the request: check the warehouse settings (PHILOTES_ICEBERG_S3_*)') },
  { when: 'file system refuses access (EACCES, EPERM)', matches: errno('EACCES', 'EPERM'), directive: needsOperator('storage', WAREHOUSE_ACCESS) },
  { when: 'file system is read-only (EROFS)', matches: errno('EROFS'), directive: needsOperator('storage', WAREHOUSE_MISSING) },
  { when: 'file system is full (ENOSPC, EDQUOT)', matches: errno('ENOSPC', 'EDQUOT'), directive: timedRetry('resources', 'the disk is full: free space; retried with backoff') },
  { when: 'file or directory missing (ENOENT, ENOTDIR)', matches: errno('ENOENT', 'ENOTDIR'), directive: needsOperator('storage', 'a file the table\'s metadata names is missing: restore it, or resync the table') },
  { when: 'any other store response', matches: (e) => e.store !== undefined, directive: timedRetry('storage', 'inspect the object store error') },
];

const UNKNOWN: ErrorDirective = timedRetry('unknown', 'inspect the error message');

/** The directive for any thrown value. */
export function classifyError(error: unknown): ErrorDirective {
  if (error instanceof ClassifiedError) return error.directive;
  const facts: ErrorFacts = {
    code: typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined,
    message: error instanceof Error ? error.message : String(error),
    store: storeFacts(error),
  };
  return ERROR_POLICY.find((row) => row.matches(facts))?.directive ?? UNKNOWN;
}

/**
 * An object store's error response: the AWS SDK's errors carry the service's error code as `name`
 * and the HTTP status in `$metadata` (S3-compatible servers answer the same way).
 */
function storeFacts(error: unknown): ErrorFacts['store'] {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  if (typeof status !== 'number' || !(error instanceof Error)) return undefined;
  return { name: error.name, status };
}
