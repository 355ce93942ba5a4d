import { BufferedEvent } from './buffered-event';

/**
 * Every NOTIFY between the apps: the channels and their payloads, encoded and decoded here only.
 * Notices only wake a process up sooner; each one also polls the tables they announce, so a lost
 * notice delays, never loses, anything.
 */


/** The channel writers LISTEN on; the payload is a wake-up message (below). */
export const EVENTS_CHANNEL = 'philotes_events';

/**
 * The channel dlq-admin NOTIFYs after an operator command (`pipeline_controls`, a replay); the
 * payload names the source, `{"s":"<source id>"}`, and may list table ids (`"t"`). The reader
 * LISTENs for its source's pause and also polls its row, so a lost notification only delays it.
 */
export const CONTROL_CHANNEL = 'philotes_control';

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

/** The payload of a NOTIFY on CONTROL_CHANNEL: `{"s":"<source id>"}`. */
export function encodeControlNotice(sourceId: string): string {
  return JSON.stringify({ s: sourceId });
}

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a notice stays well below. */
const NOTICE_BYTES = 7_000;

/**
 * The notices that wake the writers of `tableIds` (replays to apply first): `{"s":…,"t":[…]}`,
 * as many as it takes to keep each under NOTIFY's payload limit (a bulk replay may span
 * thousands of tables).
 */
export function encodeTableNotices(sourceId: string, tableIds: readonly number[]): string[] {
  const notices: string[] = [];
  let chunk: number[] = [];
  const encode = (ids: readonly number[]): string => JSON.stringify({ s: sourceId, t: ids });
  for (const id of tableIds) {
    chunk.push(id);
    if (Buffer.byteLength(encode(chunk)) > NOTICE_BYTES && chunk.length > 1) {
      chunk.pop();
      notices.push(encode(chunk));
      chunk = [id];
    }
  }
  if (chunk.length > 0) notices.push(encode(chunk));
  return notices;
}

/** The source a control notice names; undefined for a payload this version does not understand. */
export function controlNoticeSource(payload: string | undefined): string | undefined {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as { s?: unknown };
    return typeof parsed.s === 'string' ? parsed.s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tables a control notice (NOTIFY on CONTROL_CHANNEL, `{"s":"<source>","t":[<table id>, ...]}`)
 * names: dlq-admin lists the tables whose dead letters it queued for replay. Anything else names none.
 */
export function controlTables(payload: string | undefined): number[] {
  if (!payload) return [];
  try {
    const parsed = JSON.parse(payload) as { t?: unknown };
    return Array.isArray(parsed.t) ? parsed.t.filter((id): id is number => Number.isSafeInteger(id)) : [];
  } catch {
    return [];
  }
}

/** Anything that runs a statement: NOTIFY is delivered when its transaction commits. */
interface Statements {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

/** Sends a notice on a channel (at the commit of the caller's transaction, if it is in one). */
export async function notify(db: Statements, channel: typeof EVENTS_CHANNEL | typeof CONTROL_CHANNEL, payload: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
}

/** Starts receiving a channel's notices on this connection (the caller handles `notification` events). */
export async function listen(client: Statements & { escapeIdentifier(name: string): string }, channel: typeof EVENTS_CHANNEL | typeof CONTROL_CHANNEL): Promise<void> {
  await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
}
