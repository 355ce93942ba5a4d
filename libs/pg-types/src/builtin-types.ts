import { ValueKind } from '@philotes/events';

/** A built-in type: its name and how its values are read. Arrays name their element type. */
export interface BuiltinType {
  readonly name: string;
  readonly kind: ValueKind;
  readonly elementOid?: number;
  /** Kept as PostgreSQL's text form: no exact Iceberg type exists. */
  readonly textFallback?: boolean;
}

const scalar = (name: string, kind: ValueKind, textFallback = false): BuiltinType => ({ name, kind, ...(textFallback ? { textFallback } : {}) });
const array = (name: string, elementOid: number): BuiltinType => ({ name, kind: 'array', elementOid });

/** Fixed OIDs from pg_type.dat; stable across PostgreSQL versions. */
export const BUILTIN_TYPES: ReadonlyMap<number, BuiltinType> = new Map<number, BuiltinType>([
  [16, scalar('bool', 'bool')],
  [17, scalar('bytea', 'bytea')],
  [18, scalar('char', 'text')],
  [19, scalar('name', 'text')],
  [20, scalar('int8', 'int8')],
  [21, scalar('int2', 'int2')],
  [23, scalar('int4', 'int4')],
  [25, scalar('text', 'text')],
  [26, scalar('oid', 'int8')],
  [114, scalar('json', 'json')],
  [142, scalar('xml', 'text', true)],
  [650, scalar('cidr', 'text', true)],
  [700, scalar('float4', 'float4')],
  [701, scalar('float8', 'float8')],
  [790, scalar('money', 'text', true)],
  [829, scalar('macaddr', 'text', true)],
  [869, scalar('inet', 'text', true)],
  [1042, scalar('bpchar', 'text')],
  [1043, scalar('varchar', 'text')],
  [1082, scalar('date', 'date')],
  [1083, scalar('time', 'time')],
  [1114, scalar('timestamp', 'timestamp')],
  [1184, scalar('timestamptz', 'timestamptz')],
  [1186, scalar('interval', 'interval')],
  [1266, scalar('timetz', 'timetz')],
  [1560, scalar('bit', 'text', true)],
  [1562, scalar('varbit', 'text', true)],
  [1700, scalar('numeric', 'numeric')],
  [2950, scalar('uuid', 'uuid')],
  [3614, scalar('tsvector', 'text', true)],
  [3802, scalar('jsonb', 'jsonb')],
  [4089, scalar('regnamespace', 'text', true)],
  [1000, array('_bool', 16)],
  [1001, array('_bytea', 17)],
  [1002, array('_char', 18)],
  [1003, array('_name', 19)],
  [1005, array('_int2', 21)],
  [1007, array('_int4', 23)],
  [1009, array('_text', 25)],
  [1014, array('_bpchar', 1042)],
  [1015, array('_varchar', 1043)],
  [1016, array('_int8', 20)],
  [1021, array('_float4', 700)],
  [1022, array('_float8', 701)],
  [1028, array('_oid', 26)],
  [1115, array('_timestamp', 1114)],
  [1182, array('_date', 1082)],
  [1183, array('_time', 1083)],
  [1185, array('_timestamptz', 1184)],
  [1187, array('_interval', 1186)],
  [1231, array('_numeric', 1700)],
  [1270, array('_timetz', 1266)],
  [2951, array('_uuid', 2950)],
  [199, array('_json', 114)],
  [3807, array('_jsonb', 3802)],
]);
