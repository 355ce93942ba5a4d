/** Conversions between our representations and SQL parameters. */
import { formatLsn, parseLsn } from '@philotes/pgoutput';

export const lsnParam = (lsn: bigint): string => formatLsn(lsn);
export const lsnColumn = (text: string): bigint => parseLsn(text);
