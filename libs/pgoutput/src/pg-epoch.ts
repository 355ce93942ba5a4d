/**
 * PostgreSQL counts time from 2000-01-01 UTC: the replication protocol's times, the commit times
 * the buffer's events carry, and (as timestamptz) their columns. Every conversion, in JavaScript
 * and in SQL, is here.
 */

/** 2000-01-01 UTC in Unix microseconds. */
export const PG_EPOCH_UNIX_MICROS = 946_684_800_000_000n;

const EPOCH = `timestamptz '2000-01-01 00:00:00+00'`;

/** SQL: the timestamptz of a bigint expression or parameter counting microseconds from 2000-01-01. */
export function timestamptzOfPgMicros(micros: string): string {
  return `(${EPOCH} + ${micros}::bigint * interval '1 microsecond')`;
}

/** SQL: the microseconds from 2000-01-01 of a timestamptz expression, as bigint. */
export function pgMicrosOfTimestamptz(timestamp: string): string {
  return `(extract(epoch FROM ${timestamp} - ${EPOCH}) * 1000000)::bigint`;
}

/** Unix seconds (fractional) of microseconds from 2000-01-01. */
export function unixSecondsOfPgMicros(micros: bigint): number {
  return Number(micros + PG_EPOCH_UNIX_MICROS) / 1e6;
}
