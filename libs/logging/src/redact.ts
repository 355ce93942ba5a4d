import { quotesRowValues, sqlStateOf } from '@philotes/retry';

/**
 * What must never reach a log line: secrets and row values. Redaction runs on every line, so a
 * careless `log.info('...', { config })` or `{ row }` cannot leak; the call sites still avoid them.
 */
const SECRET_KEY = /pass(word)?|secret|token|authorization|credential|api[-_]?key|private[-_]?key|access[-_]?key/i;
/** Keys that carry row data by convention in this codebase (and in pgoutput messages). */
const ROW_KEYS = new Set(['row', 'rows', 'before', 'after', 'values', 'value', 'payload', 'tuple', 'old', 'new', 'key', 'keys', 'record', 'records', 'cells', 'data']);
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:@/\s]+:)([^@/\s]+)(@)/gi;
const CONNINFO_PASSWORD = /(\bpassword\s*=\s*)('[^']*'|\S+)/gi;
const MAX_DEPTH = 6;

export const REDACTED = '***';
export const OMITTED = '[row data omitted]';

export function redactText(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}$3`).replace(CONNINFO_PASSWORD, `$1${REDACTED}`);
}

/** A copy of `value` safe to log. Errors keep name, message (redacted) and SQLSTATE only. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (value instanceof Error) return redactError(value);
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return OMITTED;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) copy[key] = redactField(key, inner, depth + 1);
  return copy;
}

/** `value` as it may be logged under `key`: the key's name alone can make it secret or row data. */
export function redactField(key: string, value: unknown, depth = 0): unknown {
  if (SECRET_KEY.test(key)) return REDACTED;
  if (ROW_KEYS.has(key)) return OMITTED;
  return redact(value, depth);
}

function redactError(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  const sqlState = sqlStateOf(error);
  const message =
    quotesRowValues(sqlState)
      ? `SQLSTATE ${sqlState} (message withheld: it may quote row values)`
      : redactText(error.message);
  return { name: error.name, message, ...(typeof code === 'string' ? { code } : {}) };
}
