import { Lsn } from './lsn';

/** A tuple column as pgoutput sends it: text, SQL NULL, or "unchanged TOASTed value". */
export type TupleValue = string | null | typeof UNCHANGED;
export type TupleData = TupleValue[];

/** pgoutput's 'u': the column is TOASTed and unchanged; its value is not in the WAL. */
export const UNCHANGED: unique symbol = Symbol('unchanged-toast');

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

export type PgoutputMessage =
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
  | { readonly tag: 'insert'; readonly relationOid: number; readonly newTuple: TupleData }
  | {
      readonly tag: 'update';
      readonly relationOid: number;
      /** 'K': only the replica-identity columns; 'O': the whole old row (REPLICA IDENTITY FULL). */
      readonly oldKind?: 'K' | 'O';
      readonly oldTuple?: TupleData;
      readonly newTuple: TupleData;
    }
  | { readonly tag: 'delete'; readonly relationOid: number; readonly oldKind: 'K' | 'O'; readonly oldTuple: TupleData }
  | { readonly tag: 'truncate'; readonly relationOids: readonly number[]; readonly cascade: boolean; readonly restartIdentity: boolean }
  | { readonly tag: 'message'; readonly prefix: string };
