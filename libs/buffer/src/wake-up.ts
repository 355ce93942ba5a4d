import { BufferedEvent } from './buffered-event';

/** What a NOTIFY on the events channel tells writers: which tables got how much. */
export interface WakeUp {
  readonly source: string;
  /**
   * Per table id: events and payload bytes added. Absent when the message would not fit a
   * NOTIFY payload, or when something else changed (a copy finished): then every table of the
   * source may have work.
   */
  readonly tables?: ReadonlyMap<number, { readonly events: number; readonly bytes: number }>;
}

/** NOTIFY payloads must stay under 8000 bytes; leave room for the source id. */
const MAX_PAYLOAD = 7_000;

/**
 * `{"s":source,"t":[[tableId,events,bytes],…]}`. Writers use the sizes to commit as soon as a
 * table has a target file's worth, and otherwise wait for the flush interval.
 */
export function encodeWakeUp(source: string, events?: readonly BufferedEvent[]): string {
  if (!events) return JSON.stringify({ s: source });
  const tables = new Map<number, [number, number, number]>();
  for (const event of events) {
    const entry = tables.get(event.tableId) ?? [event.tableId, 0, 0];
    entry[1]++;
    entry[2] += event.payload.length;
    tables.set(event.tableId, entry);
  }
  const full = JSON.stringify({ s: source, t: [...tables.values()] });
  return full.length <= MAX_PAYLOAD ? full : JSON.stringify({ s: source });
}

/** The wake-up in a payload; undefined for a payload this version does not understand. */
export function decodeWakeUp(payload: string | undefined): WakeUp | undefined {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as { s?: unknown; t?: unknown };
    if (typeof parsed.s !== 'string') return undefined;
    if (!Array.isArray(parsed.t)) return { source: parsed.s };
    const tables = new Map<number, { events: number; bytes: number }>();
    for (const entry of parsed.t as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 3 || !entry.every((n) => Number.isSafeInteger(n))) return { source: parsed.s };
      const [id, events, bytes] = entry as number[];
      tables.set(id, { events, bytes });
    }
    return { source: parsed.s, tables };
  } catch {
    return undefined;
  }
}
