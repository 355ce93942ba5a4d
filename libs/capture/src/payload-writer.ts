import { Encoder } from '@msgpack/msgpack';
import { boxFloat, Extension, PackBuffer, ValueKind } from '@philotes/events';
import { daysFromCivil, ValueParseError } from '@philotes/pg-types';
import { RawTuple, SPAN_NULL, SPAN_UNCHANGED } from '@philotes/pgoutput';
import { RelationState } from './relation-registry';

/**
 * Encodes a change's payload straight from pgoutput's tuple bytes: the same MessagePack as
 * `encodePayload(tupleValues(...))` byte for byte, without a string, a value object or a bigint
 * per column on the way. Text is copied as UTF-8, numbers and times are parsed from their ASCII
 * digits. A value the fast path does not take (arrays, intervals, a BC date, a text that does not
 * parse) goes through the relation's text parser and the codec's encoder, exactly as before.
 *
 * The reader spends most of its CPU here: per change, the strings and objects of the generic path
 * were about a third of its time and most of its garbage.
 */
export class PayloadWriter {
  private readonly out = new PackBuffer();
  private readonly codes = new WeakMap<RelationState, Uint8Array>();
  /** Where the last {@link isoClock} ended, and its fraction in microseconds. */
  private clockEnd = 0;
  private clockFraction = 0;

  constructor(private readonly encoder: Encoder) {}

  /** An insert, update or delete: `after` and/or `before` rows, as `encodePayload` lays them out. */
  write(relation: RelationState, after: RawTuple | undefined, before: RawTuple | undefined, beforeIsKeyOnly: boolean, unparsable: (column: string) => void): Buffer {
    const out = this.out;
    const codes = this.codesOf(relation);
    out.reset();
    out.mapHeader((after ? 1 : 0) + (before ? 1 : 0) + (before && beforeIsKeyOnly ? 1 : 0));
    if (after) {
      out.raw(KEY_A);
      this.row(after, relation, codes, unparsable);
    }
    if (before) {
      out.raw(KEY_B);
      this.row(before, relation, codes, unparsable);
      if (beforeIsKeyOnly) out.raw(KEY_K_TRUE);
    }
    return out.take();
  }

  private codesOf(relation: RelationState): Uint8Array {
    let codes = this.codes.get(relation);
    if (!codes) {
      codes = Uint8Array.from(relation.kinds, (kind) => FAST[kind] ?? Code.Generic);
      this.codes.set(relation, codes);
    }
    return codes;
  }

  private row(tuple: RawTuple, relation: RelationState, codes: Uint8Array, unparsable: (column: string) => void): void {
    const { buffer, spans } = tuple;
    const out = this.out;
    const count = spans.length / 2;
    out.arrayHeader(count);
    for (let i = 0; i < count; i++) {
      const start = spans[2 * i];
      const length = spans[2 * i + 1];
      if (length === SPAN_NULL) out.nil();
      else if (length === SPAN_UNCHANGED) out.raw(UNCHANGED_TOAST_BYTES);
      else if (!this.fast(i < codes.length ? codes[i] : Code.Generic, buffer, start, start + length)) this.generic(relation, i, buffer.toString('utf8', start, start + length), unparsable);
    }
  }

  /** Writes the value when its text is in the form the fast path knows; false leaves it to {@link generic}. */
  private fast(code: number, b: Buffer, start: number, end: number): boolean {
    const out = this.out;
    switch (code) {
      case Code.Text:
        out.strHeader(end - start);
        out.raw(b, start, end);
        return true;
      case Code.Uuid:
        out.strHeader(end - start);
        out.rawLowerAscii(b, start, end);
        return true;
      case Code.Bool:
        if (end - start !== 1 || (b[start] !== 0x74 && b[start] !== 0x66)) return false;
        out.bool(b[start] === 0x74);
        return true;
      case Code.Integer: {
        const value = smallInteger(b, start, end);
        if (value === undefined) return false;
        out.int(value);
        return true;
      }
      case Code.Float: {
        const value = Number(b.toString('latin1', start, end));
        const boxed = boxFloat(value);
        if (typeof boxed === 'number') out.float64(value);
        else {
          out.extHeader(Extension.Float64, 8);
          out.float64Raw(value);
        }
        return true;
      }
      case Code.Numeric:
        out.extHeader(Extension.Numeric, end - start);
        out.raw(b, start, end);
        return true;
      case Code.Date: {
        const days = end - start === 10 ? isoDays(b, start) : undefined;
        if (days === undefined) return false;
        out.extHeader(Extension.Date, 4);
        out.int32Raw(days);
        return true;
      }
      case Code.Timestamp:
      case Code.TimestampTz:
        return this.timestamp(b, start, end, code === Code.TimestampTz);
      default:
        return false;
    }
  }

  /** `YYYY-MM-DD HH:MM:SS[.ffffff]` and, zoned, `+HH[:MM[:SS]]`: PostgreSQL's ISO output for years 1–9999 AD. */
  private timestamp(b: Buffer, start: number, end: number, zoned: boolean): boolean {
    if (end - start < 19 || b[start + 10] !== 0x20) return false;
    const days = isoDays(b, start);
    const clock = days === undefined ? undefined : this.isoClock(b, start + 11, end);
    if (clock === undefined) return false;
    let position = this.clockEnd;
    let offsetSeconds = 0;
    if (zoned) {
      const sign = b[position];
      if ((sign !== 0x2b && sign !== 0x2d) || position + 3 > end) return false;
      let seconds = twoDigits(b, position + 1) * 3600;
      position += 3;
      for (const unit of OFFSET_UNITS) {
        if (position === end) break;
        if (b[position] !== 0x3a || position + 3 > end) return false;
        seconds += twoDigits(b, position + 1) * unit;
        position += 3;
      }
      if (Number.isNaN(seconds)) return false;
      offsetSeconds = sign === 0x2d ? -seconds : seconds;
    }
    if (position !== end) return false;
    this.out.extHeader(zoned ? Extension.TimestampTz : Extension.Timestamp, 8);
    writeMicros(this.out, days! * 86_400 + clock - offsetSeconds, this.clockFraction);
    return true;
  }

  /** Seconds since midnight of `HH:MM:SS[.f{1,6}]` at `start`; undefined when the bytes are not that. */
  private isoClock(b: Buffer, start: number, end: number): number | undefined {
    if (start + 8 > end || b[start + 2] !== 0x3a || b[start + 5] !== 0x3a) return undefined;
    const seconds = twoDigits(b, start) * 3600 + twoDigits(b, start + 3) * 60 + twoDigits(b, start + 6);
    if (Number.isNaN(seconds)) return undefined;
    let position = start + 8;
    let fraction = 0;
    if (position < end && b[position] === 0x2e) {
      position++;
      let digits = 0;
      while (position < end && digits < 6 && b[position] >= 0x30 && b[position] <= 0x39) {
        fraction = fraction * 10 + (b[position] - 0x30);
        position++;
        digits++;
      }
      if (digits === 0) return undefined;
      for (; digits < 6; digits++) fraction *= 10;
    }
    this.clockEnd = position;
    this.clockFraction = fraction;
    return seconds;
  }

  /** The generic path: the relation's parser, the codec's encoder (text kept when it does not parse). */
  private generic(relation: RelationState, i: number, text: string, unparsable: (column: string) => void): void {
    let value;
    try {
      value = relation.parsers[i](text);
    } catch (error) {
      if (!(error instanceof ValueParseError)) throw error;
      unparsable(relation.columns[i]?.name ?? String(i));
      value = text;
    }
    const kind = relation.kinds[i];
    if (typeof value === 'number' && (kind === 'float8' || kind === 'float4')) this.out.raw(this.encoder.encode(boxFloat(value)));
    else this.out.raw(this.encoder.encode(value));
  }
}

/** Minutes and seconds of a zone offset, after its hours. */
const OFFSET_UNITS = [60, 1] as const;

/** How a column's values are written: one small integer per column, switched on per value. */
const Code = { Generic: 0, Text: 1, Uuid: 2, Bool: 3, Integer: 4, Float: 5, Numeric: 6, Date: 7, Timestamp: 8, TimestampTz: 9 } as const;

const FAST: Partial<Record<ValueKind, number>> = {
  text: Code.Text,
  enum: Code.Text,
  json: Code.Text,
  jsonb: Code.Text,
  uuid: Code.Uuid,
  bool: Code.Bool,
  int2: Code.Integer,
  int4: Code.Integer,
  int8: Code.Integer,
  float4: Code.Float,
  float8: Code.Float,
  numeric: Code.Numeric,
  date: Code.Date,
  timestamp: Code.Timestamp,
  timestamptz: Code.TimestampTz,
};

/** The map keys of the wire payload, encoded: "a", "b", and "k" with its value 1. */
const KEY_A = Uint8Array.of(0xa1, 0x61);
const KEY_B = Uint8Array.of(0xa1, 0x62);
const KEY_K_TRUE = Uint8Array.of(0xa1, 0x6b, 0x01);
/** Extension UnchangedToast with no data: ext 8, size 0. */
const UNCHANGED_TOAST_BYTES = Uint8Array.of(0xc7, 0x00, Extension.UnchangedToast);

/** Up to 15 digits with an optional minus: always a safe integer (as the text parsers decide). */
function smallInteger(b: Buffer, start: number, end: number): number | undefined {
  const negative = b[start] === 0x2d;
  let i = negative ? start + 1 : start;
  if (i === end || end - i > 15) return undefined;
  let value = 0;
  for (; i < end; i++) {
    const digit = b[i] - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** Two ASCII digits as a number, NaN when they are not. */
function twoDigits(b: Buffer, at: number): number {
  const high = b[at] - 0x30;
  const low = b[at + 1] - 0x30;
  return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : NaN;
}

/** Days since 1970-01-01 of `YYYY-MM-DD` at `start`; undefined when the bytes are not that. */
function isoDays(b: Buffer, start: number): number | undefined {
  if (b[start + 4] !== 0x2d || b[start + 7] !== 0x2d) return undefined;
  const year = twoDigits(b, start) * 100 + twoDigits(b, start + 2);
  const month = twoDigits(b, start + 5);
  const day = twoDigits(b, start + 8);
  if (Number.isNaN(year + month + day)) return undefined;
  return daysFromCivil(year, month, day);
}

const TWO_16 = 0x1_0000;
const TWO_32 = 0x1_0000_0000;

/**
 * `seconds * 1e6 + micros` as a big-endian int64, exactly, without a bigint: the product passes
 * 2^53 for dates beyond 285 years from 1970, so it is built from parts that stay below it.
 */
export function writeMicros(out: PackBuffer, seconds: number, micros: number): void {
  const a = Math.floor(seconds / TWO_16);
  const A = a * 1_000_000; // seconds' high part, scaled: total = A * 2^16 + L
  const L = (seconds - a * TWO_16) * 1_000_000 + micros;
  const aHigh = Math.floor(A / TWO_16);
  const lHigh = Math.floor(L / TWO_32);
  let low = (A - aHigh * TWO_16) * TWO_16 + (L - lHigh * TWO_32);
  let high = aHigh + lHigh;
  if (low >= TWO_32) {
    low -= TWO_32;
    high += 1;
  }
  out.int64Parts(high, low);
}
