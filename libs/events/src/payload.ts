import { Decoder, Encoder } from '@msgpack/msgpack';
import { boxFloat } from './codec';
import { ColumnSchema, ValueKind } from './value-kind';
import { CdcValue } from './values';

/**
 * The part of a change stored as MessagePack in `cdc_events.payload`. Rows are positional: value i
 * belongs to column i of the event's schema version.
 */
export interface ChangePayload {
  /** The new row (insert, update, initial copy). */
  readonly after?: readonly CdcValue[];
  /** The old row (update, delete), as the replica identity provides it. */
  readonly before?: readonly CdcValue[];
  /** `before` holds only the key columns (replica identity default/index); other positions are null. */
  readonly beforeIsKeyOnly?: boolean;
  readonly truncate?: { readonly cascade: boolean; readonly restartIdentity: boolean };
  /**
   * A change too large to store (PHILOTES_CDC_MAX_EVENT_BYTES): its size in bytes as the source
   * sent it, and no row. The writer sends it to the dead letters with the reason.
   */
  readonly oversized?: number;
}

interface WirePayload {
  a?: readonly unknown[];
  b?: readonly unknown[];
  k?: 1;
  t?: [boolean, boolean];
  o?: number;
}

/** Encodes a payload; `kinds` (per column) lets floats keep their exact form. */
export function encodePayload(encoder: Encoder, payload: ChangePayload, kinds: readonly ValueKind[]): Uint8Array {
  const wire: WirePayload = {};
  if (payload.after) wire.a = boxRow(payload.after, kinds);
  if (payload.before) wire.b = boxRow(payload.before, kinds);
  if (payload.beforeIsKeyOnly) wire.k = 1;
  if (payload.truncate) wire.t = [payload.truncate.cascade, payload.truncate.restartIdentity];
  if (payload.oversized !== undefined) wire.o = payload.oversized;
  return encoder.encode(wire);
}

/** Decodes a payload and normalises each value to its column's canonical JavaScript type. */
export function decodePayload(decoder: Decoder, bytes: Uint8Array, columns: readonly ColumnSchema[]): ChangePayload {
  return payloadOfWire(decoder.decode(bytes), columns);
}

/** The payload a decoded wire value holds (whichever decoder read it), values normalised in place. */
export function payloadOfWire(decoded: unknown, columns: readonly ColumnSchema[]): ChangePayload {
  const wire = decoded as WirePayload;
  // Built field by field (no spreads): this runs once per buffered event on the writer's hot path.
  const payload: { -readonly [K in keyof ChangePayload]: ChangePayload[K] } = {};
  if (wire.a) payload.after = normaliseRow(wire.a, columns);
  if (wire.b) payload.before = normaliseRow(wire.b, columns);
  if (wire.k) payload.beforeIsKeyOnly = true;
  if (wire.t) payload.truncate = { cascade: wire.t[0], restartIdentity: wire.t[1] };
  if (wire.o !== undefined) payload.oversized = Number(wire.o);
  return payload;
}

function boxRow(row: readonly CdcValue[], kinds: readonly ValueKind[]): readonly unknown[] {
  // Most tables have no float columns; then the row goes to the encoder as it is.
  if (!kinds.includes('float8') && !kinds.includes('float4')) return row;
  return row.map((value, i) => (typeof value === 'number' && (kinds[i] === 'float8' || kinds[i] === 'float4') ? boxFloat(value) : value));
}

/** In place: the decoded array is ours, and a copy per event costs the writer measurably. */
function normaliseRow(row: readonly unknown[], columns: readonly ColumnSchema[]): CdcValue[] {
  const values = row as CdcValue[];
  for (let i = 0; i < values.length; i++) values[i] = normalise(values[i], columns[i]?.kind, columns[i]?.element?.kind);
  return values;
}

/** MessagePack gives small integers as number and large ones as bigint; columns want one type. */
function normalise(value: CdcValue, kind: ValueKind | undefined, elementKind: ValueKind | undefined): CdcValue {
  if (value === null) return null;
  if (kind === 'int8' && typeof value === 'number') return BigInt(value);
  if ((kind === 'int2' || kind === 'int4') && typeof value === 'bigint') return Number(value);
  // Multi-dimensional arrays nest: inner arrays stay arrays, leaves take the element's kind.
  if (kind === 'array' && Array.isArray(value)) {
    return value.map((item) => (Array.isArray(item) ? normalise(item, 'array', elementKind) : normalise(item, elementKind, undefined)));
  }
  return value;
}
