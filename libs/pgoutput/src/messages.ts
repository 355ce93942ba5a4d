import { Lsn } from './lsn';

/** A tuple column as pgoutput sends it: text, SQL NULL, or "unchanged TOASTed value". */
export type TupleValue = string | null | typeof UNCHANGED;
export type TupleData = TupleValue[];

/** pgoutput's 'u': the column is TOASTed and unchanged; its value is not in the WAL. */
export const UNCHANGED: unique symbol = Symbol('unchanged-toast');

/**
 * A tuple left as bytes: for column i, `spans[2i]` is where its text starts in `buffer` and
 * `spans[2i+1]` its length, or {@link SPAN_NULL} / {@link SPAN_UNCHANGED}. The reader's hot path
 * reads values straight from these bytes instead of making a string of each.
 */
export interface RawTuple {
  readonly buffer: Buffer;
  readonly spans: number[];
}
export const SPAN_NULL = -1;
export const SPAN_UNCHANGED = -2;

/** The text form of a raw tuple. */
export function tupleTexts(raw: RawTuple): TupleData {
  const count = raw.spans.length / 2;
  const values: TupleData = new Array(count);
  for (let i = 0; i < count; i++) {
    const start = raw.spans[2 * i];
    const length = raw.spans[2 * i + 1];
    values[i] = length === SPAN_NULL ? null : length === SPAN_UNCHANGED ? UNCHANGED : raw.buffer.toString('utf8', start, start + length);
  }
  return values;
}

/** Microseconds since 2000-01-01 UTC (PostgreSQL's epoch), as the protocol sends times. */
export type PgEpochMicros = bigint;

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface RelationColumn {
  /** Part of the replica identity. */
  readonly key: boolean;
  readonly name: string;
  readonly typeOid: number;
  readonly typeModifier: number;
}

/** A decoded message; tuples as text (`TupleData`) or left as bytes (`RawTuple`). */
export type PgoutputMessage<T = TupleData> =
  | { readonly tag: 'begin'; readonly finalLsn: Lsn; readonly commitTime: PgEpochMicros; readonly xid: number }
  | { readonly tag: 'commit'; readonly commitLsn: Lsn; readonly endLsn: Lsn; readonly commitTime: PgEpochMicros }
  | { readonly tag: 'origin'; readonly originLsn: Lsn; readonly name: string }
  | {
      readonly tag: 'relation';
      readonly relationOid: number;
      readonly namespace: string;
      readonly name: string;
      readonly replicaIdentity: ReplicaIdentity;
      readonly columns: readonly RelationColumn[];
    }
  | { readonly tag: 'type'; readonly typeOid: number; readonly namespace: string; readonly name: string }
  | { readonly tag: 'insert'; readonly relationOid: number; readonly newTuple: T }
  | {
      readonly tag: 'update';
      readonly relationOid: number;
      /** 'K': only the replica-identity columns; 'O': the whole old row (REPLICA IDENTITY FULL). */
      readonly oldKind?: 'K' | 'O';
      readonly oldTuple?: T;
      readonly newTuple: T;
    }
  | { readonly tag: 'delete'; readonly relationOid: number; readonly oldKind: 'K' | 'O'; readonly oldTuple: T }
  | { readonly tag: 'truncate'; readonly relationOids: readonly number[]; readonly cascade: boolean; readonly restartIdentity: boolean }
  | { readonly tag: 'message'; readonly prefix: string };
