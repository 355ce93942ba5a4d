import { types } from 'avsc';

/**
 * Avro longs as numbers when they fit 2^53 and bigints otherwise: Java engines write 63-bit
 * snapshot ids, which avsc's default long type refuses ("potential precision loss").
 */
export const bigintLongType = types.LongType.__with({
  fromBuffer: (buffer: Buffer) => {
    const value = buffer.readBigInt64LE(0);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  },
  toBuffer: (value: number | bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(BigInt(value));
    return buffer;
  },
  fromJSON: (value: number | string) => (typeof value === 'string' ? BigInt(value) : value),
  toJSON: (value: number | bigint) => (typeof value === 'bigint' ? value.toString() : value),
  isValid: (value: unknown) => (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint',
  compare: (a: number | bigint, b: number | bigint) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0),
});
