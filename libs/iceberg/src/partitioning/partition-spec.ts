import { createHash } from 'node:crypto';
import { IcebergSchema, isList, NestedField, PrimitiveType } from '../schema';
import { acceptsType, applyTransform, formatTransform, humanString, parseTransform, resultType, Transform } from './transforms';

/** A partition field as metadata JSON holds it (spec, Appendix C). */
export interface PartitionField {
  readonly 'source-id': number;
  readonly 'field-id': number;
  readonly name: string;
  readonly transform: string;
}

export interface PartitionSpec {
  readonly 'spec-id': number;
  readonly fields: readonly PartitionField[];
}

/** A partition field asked for: a transform of a schema field, before ids and names are given. */
export interface PartitionFieldRequest {
  readonly sourceId: number;
  readonly transform: Transform;
}

/** Java and PyIceberg number partition fields from 1000 (PARTITION_DATA_ID_START). */
export const FIRST_PARTITION_FIELD_ID = 1000;

export const UNPARTITIONED: PartitionSpec = { 'spec-id': 0, fields: [] };

/**
 * Whether a spec partitions nothing: no fields, or only void ones (as Java's
 * PartitionSpec.isUnpartitioned). Its deletes apply to every data file, like those of spec 0.
 */
export function isUnpartitioned(spec: PartitionSpec): boolean {
  return spec.fields.every((f) => f.transform === 'void');
}

/** The ids of a table's specs that partition nothing (see {@link isUnpartitioned}). */
export function unpartitionedSpecIds(specs: readonly PartitionSpec[]): ReadonlySet<number> {
  return new Set(specs.filter(isUnpartitioned).map((s) => s['spec-id']));
}

/** A partition tuple: one value per field of its spec, in the spec's order. */
export type PartitionTuple = readonly unknown[];

/** Java's default names: `col` for identity, `col_bucket`, `col_trunc`, `col_year`, ..., `col_null` for void. */
export function partitionFieldName(column: string, transform: Transform): string {
  switch (transform.kind) {
    case 'identity':
      return column;
    case 'truncate':
      return `${column}_trunc`;
    case 'void':
      return `${column}_null`;
    default:
      return `${column}_${transform.kind}`;
  }
}

/**
 * The fields of a spec for `requests`, given the specs the table already has (spec, Partition
 * Evolution): a field with the source id and transform of a field of any earlier spec keeps that
 * field's id and name; a new one takes the next id after `lastPartitionId`. Names stay unique
 * within the spec and do not take a column's name (except identity of that column).
 */
export function specFields(schema: IcebergSchema, requests: readonly PartitionFieldRequest[], earlier: readonly PartitionSpec[], lastPartitionId: number): PartitionField[] {
  let nextId = lastPartitionId + 1;
  const fields: PartitionField[] = [];
  for (const request of requests) {
    const source = schema.fields.find((f) => f.id === request.sourceId);
    if (!source) throw new Error(`partition source field ${request.sourceId} is not in the schema`);
    if (!acceptsType(request.transform, source.type)) throw new Error(`transform ${formatTransform(request.transform)} does not apply to ${String(source.type)}`);
    const transform = formatTransform(request.transform);
    const previous = earlier.flatMap((spec) => spec.fields).find((f) => f['source-id'] === request.sourceId && f.transform === transform);
    if (fields.some((f) => f['source-id'] === request.sourceId && f.transform === transform)) continue;
    if (previous && !fields.some((f) => f.name === previous.name)) {
      fields.push(previous);
      continue;
    }
    const fieldId = previous?.['field-id'] ?? nextId++;
    let name = partitionFieldName(source.name, request.transform);
    const clashes = (candidate: string) =>
      fields.some((f) => f.name === candidate) || schema.fields.some((f) => f.name === candidate && !(f.id === request.sourceId && request.transform.kind === 'identity'));
    if (clashes(name)) name = `${name}_${fieldId}`;
    fields.push({ 'source-id': request.sourceId, 'field-id': fieldId, name, transform });
  }
  return fields;
}

/** Two specs partition alike when their fields match in order (ids and names included). */
export function sameFields(a: readonly PartitionField[], b: readonly PartitionField[]): boolean {
  return a.length === b.length && a.every((f, i) => f['source-id'] === b[i]['source-id'] && f.transform === b[i].transform && f['field-id'] === b[i]['field-id'] && f.name === b[i].name);
}

/** A partition field resolved against a schema: its source field, transform and value type. */
export interface BoundPartitionField {
  readonly field: PartitionField;
  readonly source: NestedField;
  readonly transform: Transform;
  readonly type: PrimitiveType;
}

export function bindSpec(spec: PartitionSpec, schema: IcebergSchema): BoundPartitionField[] {
  return spec.fields.map((field) => {
    const source = schema.fields.find((f) => f.id === field['source-id']);
    if (!source) throw new Error(`partition field ${field.name} names source field ${field['source-id']}, which the schema lacks`);
    const transform = parseTransform(field.transform);
    if (isList(source.type)) return { field, source, transform, type: 'string' };
    return { field, source, transform, type: resultType(transform, source.type) };
  });
}

/**
 * Computes partition tuples of rows aligned with `fields`; every source field of the spec must be
 * among them (for equality deletes: among the key fields).
 */
export function partitioner(bound: readonly BoundPartitionField[], fields: readonly NestedField[]): (row: readonly unknown[]) => PartitionTuple {
  const positions = bound.map((b) => {
    const at = fields.findIndex((f) => f.id === b.source.id);
    // A void field is null whatever its source: an equality delete need not carry that column.
    if (at < 0 && b.transform.kind !== 'void') throw new Error(`partition source field ${b.source.name} is not among the written fields`);
    return at;
  });
  return (row) => bound.map((b, i) => (isList(b.source.type) ? null : applyTransform(b.transform, b.source.type, row[positions[i]])));
}

/** A string equal for equal tuples (group rows by it). */
export function partitionKey(tuple: PartitionTuple): string {
  return tuple
    .map((value) => {
      if (value === null || value === undefined) return '\u0001';
      if (value instanceof Uint8Array) return `b${Buffer.from(value).toString('hex')}`;
      return `${typeof value === 'bigint' ? 'number' : typeof value}:${String(value)}`;
    })
    .join('\u0000');
}

/** Longest folder name a partition gets: file systems refuse names over 255 bytes. */
const MAX_SEGMENT_BYTES = 200;

/**
 * The Hive-style folder of a partition, as Java's PartitionSpec.partitionToPath writes it:
 * `name=value/...`, both URL-encoded (java.net.URLEncoder), so no name or value can add a
 * folder level or climb out of the table's data folder. A segment longer than a file system
 * takes (a long identity value) keeps its start and ends in a hash of the whole: the path only
 * helps a person browsing; readers take the partition from the manifest.
 */
export function partitionPath(bound: readonly BoundPartitionField[], tuple: PartitionTuple): string {
  return bound
    .map((b, i) => boundedSegment(`${urlEncode(b.field.name)}=${urlEncode(humanString(b.transform, isList(b.source.type) ? 'string' : b.source.type, tuple[i]))}`))
    .join('/');
}

function boundedSegment(segment: string): string {
  if (segment.length <= MAX_SEGMENT_BYTES) return segment;
  let head = segmentStart(segment, MAX_SEGMENT_BYTES - 34);
  // The '=' is what marks a partition folder (orphan clean-up walks only those): a field name too
  // long to leave room for it still gets one.
  if (!head.includes('=')) head = `${segmentStart(segment, MAX_SEGMENT_BYTES - 35)}=`;
  return `${head}~${createHash('sha256').update(segment).digest('hex').slice(0, 32)}`;
}

/** The first `length` characters of an encoded segment, never ending inside a %XX escape. */
function segmentStart(segment: string, length: number): string {
  const head = segment.slice(0, length);
  const escape = head.lastIndexOf('%');
  return escape >= head.length - 2 ? head.slice(0, escape) : head;
}

/** java.net.URLEncoder.encode(s, UTF-8): keeps [A-Za-z0-9.*_-], space as '+', the rest %XX. */
export function urlEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9.*_-]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
