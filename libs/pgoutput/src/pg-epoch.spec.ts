import { pgMicrosOfTimestamptz, PG_EPOCH_UNIX_MICROS, timestamptzOfPgMicros, unixSecondsOfPgMicros } from './pg-epoch';

describe("PostgreSQL's epoch", () => {
  it('is 2000-01-01 UTC', () => {
    expect(new Date(Number(PG_EPOCH_UNIX_MICROS / 1000n)).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(unixSecondsOfPgMicros(1_500_000n)).toBe(946_684_801.5);
  });

  it('converts both ways in SQL around the same epoch', () => {
    expect(timestamptzOfPgMicros('$1')).toBe("(timestamptz '2000-01-01 00:00:00+00' + $1::bigint * interval '1 microsecond')");
    expect(pgMicrosOfTimestamptz('commit_ts')).toBe("(extract(epoch FROM commit_ts - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint");
  });
});
