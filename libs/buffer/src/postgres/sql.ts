/** Conversions between our representations and SQL parameters. */
import { formatLsn, parseLsn, timestamptzOfPgMicros } from '@philotes/pgoutput';

export const lsnParam = (lsn: bigint): string => formatLsn(lsn);
export const lsnColumn = (text: string): bigint => parseLsn(text);

/** A timestamptz expression for a parameter holding microseconds since 2000-01-01 UTC. */
export const PG_EPOCH_MICROS_SQL = timestamptzOfPgMicros;

/** The channel writers LISTEN on; the payload is a wake-up message (wake-up.ts). */
export const EVENTS_CHANNEL = 'philotes_events';

/**
 * The channel dlq-admin NOTIFYs after an operator command (`pipeline_controls`, a replay); the
 * payload names the source, `{"s":"<source id>"}`, and may list table ids (`"t"`). The reader
 * LISTENs for its source's pause and also polls its row, so a lost notification only delays it.
 */
export const CONTROL_CHANNEL = 'philotes_control';
