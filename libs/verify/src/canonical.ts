import { createHash } from 'node:crypto';
import { IcebergType, NestedField } from '@philotes/iceberg';

/**
 * One cell in a form both sides share: the source's value after the writer's type mapping, and
 * the value read back from Parquet. Numbers and bigints alike (an int read back as long stays the
 * same number); floats as Iceberg stores them (32-bit for `float`); bytes as hex; lists in order.
 */
export function cellText(value: unknown, type: IcebergType): string {
  if (value === null || value === undefined) return '\u2205';
  if (typeof value === 'number') return `n${type === 'float' ? String(Math.fround(value)) : Object.is(value, -0) ? '-0' : String(value)}`;
  if (typeof value === 'bigint') return `n${value.toString()}`;
  if (value instanceof Uint8Array) return `b${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (Array.isArray(value)) {
    const element = typeof type === 'object' && type.type === 'list' ? type.element : 'string';
    return `[${value.map((v) => cellText(v, element)).join(',')}]`;
  }
  if (value instanceof Date) return `t${value.toISOString()}`;
  return `${typeof value}:${String(value)}`;
}

/** The compared cells of a row (the fields the source's columns map to), as one string. */
export function rowText(row: readonly unknown[], fields: readonly NestedField[], indexes: readonly number[]): string {
  return indexes.map((i) => cellText(row[i], fields[i].type)).join('\u0000');
}

/** A 64-bit digest of a string (the first 8 bytes of its SHA-1). */
export function digest(text: string): bigint {
  return createHash('sha1').update(text).digest().readBigUInt64BE(0);
}

const MASK = (1n << 64n) - 1n;

/**
 * Per-bucket sums over a side's rows: a key range (by key hash) whose count and digest sum agree on
 * both sides holds the same rows; only buckets that differ are compared key by key. Sums, not XOR,
 * so a duplicated row never cancels itself out.
 */
export class BucketSums {
  readonly counts: number[];
  readonly sums: bigint[];

  constructor(readonly buckets: number) {
    this.counts = new Array<number>(buckets).fill(0);
    this.sums = new Array<bigint>(buckets).fill(0n);
  }

  static bucketOf(key: string, buckets: number): number {
    return Number(digest(key) % BigInt(buckets));
  }

  add(key: string, text: string): void {
    const bucket = BucketSums.bucketOf(key, this.buckets);
    this.counts[bucket]++;
    this.sums[bucket] = (this.sums[bucket] + digest(`${key}\u0001${text}`)) & MASK;
  }

  /** Buckets where the two sides disagree. */
  differing(other: BucketSums): Set<number> {
    const out = new Set<number>();
    for (let b = 0; b < this.buckets; b++) if (this.counts[b] !== other.counts[b] || this.sums[b] !== other.sums[b]) out.add(b);
    return out;
  }
}
