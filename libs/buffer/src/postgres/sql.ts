/** Conversions between our representations and SQL parameters. */
import { formatLsn, parseLsn, timestamptzOfPgMicros } from '@philotes/pgoutput';

export const lsnParam = (lsn: bigint): string => formatLsn(lsn);
export const lsnColumn = (text: string): bigint => parseLsn(text);

/** A timestamptz expression for a parameter holding microseconds since 2000-01-01 UTC. */
export const PG_EPOCH_MICROS_SQL = timestamptzOfPgMicros;
