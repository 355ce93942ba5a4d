import { CdcValue, PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, ValueKind } from '@philotes/events';
import { parseArrayText } from './array-text';
import { parseDateText, parseIntervalText, parseTimestampText, parseTimeText, parseTimeTzText } from './datetime';

/** Text PostgreSQL printed that does not parse as its type (a DateStyle we did not set, a bug). */
export class ValueParseError extends Error {}

export type TextParser = (text: string) => CdcValue;

const MAX_SAFE_DIGITS = 15;

function fail(kind: string, text: string): never {
  // The value itself stays out of the message: messages reach logs.
  throw new ValueParseError(`text of length ${text.length} does not parse as ${kind}`);
}

function parseInt8(text: string): number | bigint {
  // Up to 15 digits always fits 2^53; longer numbers decide by value.
  const digits = text.startsWith('-') ? text.length - 1 : text.length;
  if (digits <= MAX_SAFE_DIGITS) return Number(text);
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function parseBytea(text: string): Uint8Array {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  // bytea_output = escape: printable bytes as is, `\\` for a backslash, `\ooo` octal for the rest.
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') {
      out.push(text.charCodeAt(i));
    } else if (text[i + 1] === '\\') {
      out.push(0x5c);
      i += 1;
    } else {
      out.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    }
  }
  return Uint8Array.from(out);
}

const SCALAR_PARSERS: Readonly<Record<Exclude<ValueKind, 'array'>, TextParser>> = {
  bool: (text) => (text === 't' ? true : text === 'f' ? false : fail('bool', text)),
  int2: (text) => Number(text),
  int4: (text) => Number(text),
  int8: parseInt8,
  float4: (text) => Number(text),
  float8: (text) => Number(text),
  numeric: (text) => new PgNumeric(text),
  text: (text) => text,
  enum: (text) => text,
  uuid: (text) => text.toLowerCase(),
  json: (text) => text,
  jsonb: (text) => text,
  bytea: parseBytea,
  date: (text) => {
    const days = parseDateText(text);
    return days === undefined ? fail('date', text) : new PgDate(days);
  },
  time: (text) => {
    const micros = parseTimeText(text);
    return micros === undefined ? fail('time', text) : new PgTime(micros);
  },
  timetz: (text) => {
    const parsed = parseTimeTzText(text);
    return parsed === undefined ? fail('timetz', text) : new PgTimeTz(parsed.micros, parsed.offsetSeconds);
  },
  timestamp: (text) => {
    const micros = parseTimestampText(text, false);
    return micros === undefined ? fail('timestamp', text) : new PgTimestamp(micros, false);
  },
  timestamptz: (text) => {
    const micros = parseTimestampText(text, true);
    return micros === undefined ? fail('timestamptz', text) : new PgTimestamp(micros, true);
  },
  interval: (text) => {
    const parsed = parseIntervalText(text);
    return parsed === undefined ? fail('interval', text) : new PgInterval(parsed.months, parsed.days, parsed.micros);
  },
};

/** The parser for a column's text values. Arrays parse their elements with the element's parser. */
export function textParser(kind: ValueKind, elementKind?: ValueKind): TextParser {
  if (kind !== 'array') return SCALAR_PARSERS[kind];
  if (!elementKind || elementKind === 'array') throw new Error('an array column needs a scalar element kind');
  const element = SCALAR_PARSERS[elementKind];
  const convert = (items: ReturnType<typeof parseArrayText>): CdcValue[] =>
    items.map((item) => (item === null ? null : Array.isArray(item) ? convert(item) : element(item)));
  return (text) => {
    try {
      return convert(parseArrayText(text));
    } catch (error) {
      if (error instanceof ValueParseError) throw error;
      return fail('array', text);
    }
  };
}
