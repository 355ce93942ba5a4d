import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, UNCHANGED_TOAST, UnchangedToast } from './values';

/**
 * MessagePack extension types for the values JavaScript cannot hold natively. The numbers are part
 * of the buffer's storage format: never reuse or renumber one.
 */
export const Extension = {
  Numeric: 1,
  Timestamp: 2,
  TimestampTz: 3,
  Date: 4,
  Time: 5,
  TimeTz: 6,
  Interval: 7,
  UnchangedToast: 8,
  Float64: 9,
} as const;

/**
 * A float that MessagePack would otherwise store as an integer (1.0, 1e10) or lose the sign of
 * (-0). Wrapped only for encoding; decoding yields the plain number.
 */
export class Float64Box {
  constructor(readonly value: number) {}
}

/** The value to hand the encoder for a float column. */
export function boxFloat(value: number): number | Float64Box {
  return Number.isInteger(value) || Object.is(value, -0) ? new Float64Box(value) : value;
}

const fromUtf8 = new TextDecoder();

/** Small buffers come from Node's shared pool: one of these per value on the hot path. */
function bytes(size: number, fill: (out: Buffer) => void): Uint8Array {
  const out = Buffer.allocUnsafe(size);
  fill(out);
  return out;
}

function view(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

export const extensionCodec = new ExtensionCodec();

extensionCodec.register({
  type: Extension.Numeric,
  encode: (value) => (value instanceof PgNumeric ? Buffer.from(value.text, 'latin1') : null), // numeric text is ASCII
  decode: (data) => new PgNumeric(fromUtf8.decode(data)),
});
extensionCodec.register({
  type: Extension.Timestamp,
  encode: (value) => (value instanceof PgTimestamp && !value.zoned ? bytes(8, (b) => b.writeBigInt64BE(value.micros)) : null),
  decode: (data) => new PgTimestamp(view(data).getBigInt64(0), false),
});
extensionCodec.register({
  type: Extension.TimestampTz,
  encode: (value) => (value instanceof PgTimestamp && value.zoned ? bytes(8, (b) => b.writeBigInt64BE(value.micros)) : null),
  decode: (data) => new PgTimestamp(view(data).getBigInt64(0), true),
});
extensionCodec.register({
  type: Extension.Date,
  encode: (value) => (value instanceof PgDate ? bytes(4, (b) => b.writeInt32BE(value.days)) : null),
  decode: (data) => new PgDate(view(data).getInt32(0)),
});
extensionCodec.register({
  type: Extension.Time,
  encode: (value) => (value instanceof PgTime ? bytes(8, (b) => b.writeBigInt64BE(value.micros)) : null),
  decode: (data) => new PgTime(view(data).getBigInt64(0)),
});
extensionCodec.register({
  type: Extension.TimeTz,
  encode: (value) =>
    value instanceof PgTimeTz
      ? bytes(12, (b) => {
          b.writeBigInt64BE(value.micros, 0);
          b.writeInt32BE(value.offsetSeconds, 8);
        })
      : null,
  decode: (data) => new PgTimeTz(view(data).getBigInt64(0), view(data).getInt32(8)),
});
extensionCodec.register({
  type: Extension.Interval,
  encode: (value) =>
    value instanceof PgInterval
      ? bytes(16, (b) => {
          b.writeInt32BE(value.months, 0);
          b.writeInt32BE(value.days, 4);
          b.writeBigInt64BE(value.micros, 8);
        })
      : null,
  decode: (data) => {
    const v = view(data);
    return new PgInterval(v.getInt32(0), v.getInt32(4), v.getBigInt64(8));
  },
});
extensionCodec.register({
  type: Extension.UnchangedToast,
  encode: (value) => (value instanceof UnchangedToast ? new Uint8Array(0) : null),
  decode: () => UNCHANGED_TOAST,
});

extensionCodec.register({
  type: Extension.Float64,
  encode: (value) => (value instanceof Float64Box ? bytes(8, (b) => b.writeDoubleBE(value.value)) : null),
  decode: (data) => view(data).getFloat64(0),
});

/** One encoder/decoder pair per process: they keep buffers between calls, so reuse is faster. */
export function createEncoder(): Encoder {
  return new Encoder({ extensionCodec, useBigInt64: true, ignoreUndefined: false });
}

export function createDecoder(): Decoder {
  return new Decoder({ extensionCodec, useBigInt64: true });
}
