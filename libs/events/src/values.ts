/**
 * The values a change carries, exactly as PostgreSQL holds them. JavaScript's own types lose
 * precision (int8 beyond 2^53, numeric, microsecond timestamps), so those get small classes.
 *
 * | PostgreSQL                    | value                                   |
 * | ----------------------------- | --------------------------------------- |
 * | bool                          | boolean                                 |
 * | int2, int4, float4, float8    | number (NaN, ±Infinity for floats)      |
 * | int8                          | number when it fits 2^53, else bigint   |
 * | numeric                       | PgNumeric (decimal text; NaN/±Infinity) |
 * | text, varchar, char, enum, uuid, json, jsonb, unknown types | string (PostgreSQL's text form) |
 * | bytea                         | Uint8Array                              |
 * | date                          | PgDate                                  |
 * | time, timetz                  | PgTime, PgTimeTz                        |
 * | timestamp, timestamptz        | PgTimestamp                             |
 * | interval                      | PgInterval                              |
 * | arrays                        | arrays of the element values (nested)   |
 * | unchanged TOAST (pgoutput 'u')| UNCHANGED_TOAST                         |
 */
export type CdcValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PgNumeric
  | PgDate
  | PgTime
  | PgTimeTz
  | PgTimestamp
  | PgInterval
  | UnchangedToast
  | CdcValue[];

/** A decimal as PostgreSQL printed it: full precision, and the special values flagged. */
export class PgNumeric {
  constructor(readonly text: string) {}

  /** 'NaN', 'Infinity' or '-Infinity' for the values a decimal type cannot hold; else undefined. */
  get special(): 'NaN' | 'Infinity' | '-Infinity' | undefined {
    return this.text === 'NaN' || this.text === 'Infinity' || this.text === '-Infinity' ? this.text : undefined;
  }
}

/** PostgreSQL's own infinity encodings: int64 / int32 extremes. */
export const TIMESTAMP_INFINITY = 9_223_372_036_854_775_807n;
export const TIMESTAMP_MINUS_INFINITY = -9_223_372_036_854_775_808n;
export const DATE_INFINITY = 2_147_483_647;
export const DATE_MINUS_INFINITY = -2_147_483_648;

/** Microseconds since 1970-01-01 00:00:00 (UTC for `zoned`); ±infinity as the int64 extremes. */
export class PgTimestamp {
  constructor(
    readonly micros: bigint,
    readonly zoned: boolean,
  ) {}

  get infinite(): 1 | -1 | 0 {
    return this.micros === TIMESTAMP_INFINITY ? 1 : this.micros === TIMESTAMP_MINUS_INFINITY ? -1 : 0;
  }
}

/** Days since 1970-01-01; ±infinity as the int32 extremes. */
export class PgDate {
  constructor(readonly days: number) {}

  get infinite(): 1 | -1 | 0 {
    return this.days === DATE_INFINITY ? 1 : this.days === DATE_MINUS_INFINITY ? -1 : 0;
  }
}

/** Microseconds since midnight (24:00:00 is 86 400 000 000). */
export class PgTime {
  constructor(readonly micros: bigint) {}
}

/** Microseconds since local midnight and the zone's offset east of UTC, in seconds. */
export class PgTimeTz {
  constructor(
    readonly micros: bigint,
    readonly offsetSeconds: number,
  ) {}
}

/** PostgreSQL keeps the three parts apart: a month is not 30 days, a day not always 24 hours. */
export class PgInterval {
  constructor(
    readonly months: number,
    readonly days: number,
    readonly micros: bigint,
  ) {}
}

/**
 * pgoutput's 'u': a TOASTed column the update did not change, whose value the WAL does not hold.
 * Never a value: the writer keeps the column's previous value.
 */
export class UnchangedToast {
  private constructor() {}
  static readonly INSTANCE = new UnchangedToast();
}
export const UNCHANGED_TOAST = UnchangedToast.INSTANCE;
