import { CdcValue, ColumnSchema, ValueKind } from '@philotes/events';
import { DecodedEvent } from '@philotes/buffer';

/** A source column for tests. */
export function column(name: string, kind: ValueKind, options: Partial<ColumnSchema> = {}): ColumnSchema {
  return { name, typeOid: 0, typeModifier: -1, typeName: kind, kind, key: false, ...options };
}

/** numeric(p,s) as PostgreSQL encodes it in atttypmod. */
export function numericModifier(precision: number, scale: number): number {
  return ((precision << 16) | scale) + 4;
}

let seq = 0;

/** A buffered change for tests, at increasing positions. */
export function change(op: DecodedEvent['op'], columns: readonly ColumnSchema[], images: { after?: CdcValue[]; before?: CdcValue[]; keyOnly?: boolean }): DecodedEvent {
  seq++;
  return {
    position: { lsn: 0x1000n + BigInt(seq), seq },
    op,
    xid: 1,
    commitTime: 1_000_000n * BigInt(seq),
    schemaVersion: 1,
    columns,
    ...(images.after ? { after: images.after } : {}),
    ...(images.before ? { before: images.before } : {}),
    beforeIsKeyOnly: images.keyOnly ?? false,
    payload: Buffer.alloc(10),
  };
}
