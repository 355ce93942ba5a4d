/**
 * What to do about an error: retry it, or stop and let an operator (or the dead-letter queue) deal
 * with it. `kind` names the error class in dead letters and metrics (low cardinality); `action`
 * tells the operator what to do.
 */
export interface ErrorDirective {
  readonly retry: boolean;
  readonly kind: ErrorKind;
  readonly action: string;
}

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

const RETRY = (kind: ErrorKind, action: string): ErrorDirective => ({ retry: true, kind, action });
const STOP = (kind: ErrorKind, action: string): ErrorDirective => ({ retry: false, kind, action });

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
const sqlClass = (prefix: string) => (e: ErrorFacts) => typeof e.code === 'string' && e.code.length === 5 && e.code.startsWith(prefix);
const sqlState = (...codes: string[]) => (e: ErrorFacts) => e.code !== undefined && codes.includes(e.code);
const errno = sqlState;
const storeError = (...names: string[]) => (e: ErrorFacts) => e.store !== undefined && names.includes(e.store.name);
const storeStatus = (test: (status: number) => boolean) => (e: ErrorFacts) => e.store !== undefined && test(e.store.status);
const WAREHOUSE_ACCESS = 'give the writer access to the warehouse (credentials, bucket policy, directory permissions), then resume the table';
const WAREHOUSE_MISSING = 'check PHILOTES_ICEBERG_WAREHOUSE and the bucket or directory it names, then resume the table';

/** First matching row wins. Errors that match nothing are retried: a bounded retry costs little. */
export const ERROR_POLICY: readonly PolicyRow[] = [
  { when: 'network error', matches: (e) => e.code !== undefined && NETWORK_CODES.has(e.code), directive: RETRY('connection', 'check that the database is up and reachable') },
  { when: 'connection dropped', matches: (e) => /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e.message), directive: RETRY('connection', 'check that the database is up and reachable') },
  { when: 'SQLSTATE 08 connection exception', matches: sqlClass('08'), directive: RETRY('connection', 'check that the database is up and reachable') },
  { when: 'SQLSTATE 40001 / 40P01 serialization, deadlock', matches: sqlState('40001', '40P01'), directive: RETRY('concurrency', 'none; retried automatically') },
  { when: 'SQLSTATE 55P03 lock not available', matches: sqlState('55P03'), directive: RETRY('concurrency', 'none; retried automatically') },
  { when: 'SQLSTATE 53 insufficient resources', matches: sqlClass('53'), directive: RETRY('resources', 'the database is out of disk, memory or connections; free some') },
  { when: 'SQLSTATE 57P01-57P05 server shutting down', matches: sqlState('57P01', '57P02', '57P03', '57P04', '57P05'), directive: RETRY('server-shutdown', 'the database is restarting; wait') },
  { when: 'SQLSTATE 57014 query cancelled', matches: sqlState('57014'), directive: RETRY('server-shutdown', 'a statement was cancelled; check statement_timeout') },
  { when: 'SQLSTATE 28 invalid authorization', matches: sqlClass('28'), directive: STOP('authorization', 'check the user name and password') },
  { when: 'SQLSTATE 42501 insufficient privilege', matches: sqlState('42501'), directive: STOP('authorization', 'grant the missing privilege to the configured user') },
  { when: 'SQLSTATE 22 data exception', matches: sqlClass('22'), directive: STOP('data', 'the value cannot be stored as is; inspect the event') },
  { when: 'SQLSTATE 23 integrity constraint', matches: sqlClass('23'), directive: STOP('constraint', 'the change breaks a constraint; inspect the event') },
  { when: 'SQLSTATE 42 syntax or schema error', matches: sqlClass('42'), directive: STOP('schema', 'a table or column is missing or changed; check migrations and the source schema') },
  // Storage: an object store's error response, or a file system's errno. Never `unknown`.
  { when: 'store refuses access (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, 401, 403)', matches: (e) => storeError('AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled', 'InvalidToken', 'ExpiredToken')(e) || storeStatus((s) => s === 401 || s === 403)(e), directive: STOP('storage', WAREHOUSE_ACCESS) },
  { when: 'store has no such bucket (NoSuchBucket, PermanentRedirect: another region)', matches: storeError('NoSuchBucket', 'PermanentRedirect', 'AuthorizationHeaderMalformed'), directive: STOP('storage', WAREHOUSE_MISSING) },
  { when: 'store has no such object (NoSuchKey, 404)', matches: (e) => storeError('NoSuchKey', 'NotFound')(e) || storeStatus((s) => s === 404)(e), directive: STOP('storage', 'a file the table\'s metadata names is missing from the warehouse: restore it, or resync the table') },
  { when: 'store throttles or fails (SlowDown, RequestTimeout, 5xx)', matches: (e) => storeError('SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable')(e) || storeStatus((s) => s === 429 || s >= 500)(e), directive: RETRY('storage', 'the object store is throttling or failing; retried with backoff') },
  { when: 'store refuses the request otherwise (4xx)', matches: storeStatus((s) => s >= 400 && s < 500), directive: STOP('storage', 'the object store refused the request: check the warehouse settings (PHILOTES_ICEBERG_S3_*)') },
  { when: 'file system refuses access (EACCES, EPERM)', matches: errno('EACCES', 'EPERM'), directive: STOP('storage', WAREHOUSE_ACCESS) },
  { when: 'file system is read-only (EROFS)', matches: errno('EROFS'), directive: STOP('storage', WAREHOUSE_MISSING) },
  { when: 'file system is full (ENOSPC, EDQUOT)', matches: errno('ENOSPC', 'EDQUOT'), directive: RETRY('resources', 'the disk is full: free space; retried with backoff') },
  { when: 'file or directory missing (ENOENT, ENOTDIR)', matches: errno('ENOENT', 'ENOTDIR'), directive: STOP('storage', 'a file the table\'s metadata names is missing: restore it, or resync the table') },
  { when: 'any other store response', matches: (e) => e.store !== undefined, directive: RETRY('storage', 'inspect the object store error') },
];

const UNKNOWN: ErrorDirective = RETRY('unknown', 'inspect the error message');

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
