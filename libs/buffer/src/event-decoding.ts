import { ColumnSchema, PayloadReader } from '@philotes/events';
import { CorruptEventError, DecodedEvent, UnversionedEvent } from './event-forms';

/**
 * A stored event decoded with the columns of its schema version: its MessagePack payload (see
 * @philotes/events `encodePayload`) read into row images. One function for every buffer that
 * hands events to a writer (Postgres, memory), so they decode alike; a payload that does not
 * decode is a CorruptEventError.
 */
export function decodeEvent(payloads: PayloadReader, event: UnversionedEvent, columns: readonly ColumnSchema[]): DecodedEvent {
  let payload;
  try {
    payload = payloads.read(event.payload, columns);
  } catch (error) {
    throw new CorruptEventError(event.position, error);
  }
  // Field by field, no spreads: this runs once per event on the writer's hot path.
  const change: { -readonly [K in keyof DecodedEvent]: DecodedEvent[K] } = {
    position: event.position,
    op: event.op,
    xid: event.xid,
    commitTime: event.commitTime,
    schemaVersion: event.schemaVersion,
    columns,
    beforeIsKeyOnly: payload.beforeIsKeyOnly ?? false,
    payload: event.payload,
  };
  if (payload.after) change.after = payload.after;
  if (payload.before) change.before = payload.before;
  if (payload.oversized !== undefined) change.oversized = payload.oversized;
  return change;
}
