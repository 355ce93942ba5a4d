/**
 * Iceberg's types and schemas as their JSON serialization (spec, Appendix C), so a schema is both
 * our model and what the metadata file holds.
 */
export type PrimitiveType =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `decimal(${number}, ${number})`;

export interface ListType {
  readonly type: 'list';
  readonly 'element-id': number;
  readonly 'element-required': boolean;
  readonly element: IcebergType;
}

export type IcebergType = PrimitiveType | ListType;

export interface NestedField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: IcebergType;
  readonly doc?: string;
}

export interface IcebergSchema {
  readonly type: 'struct';
  readonly 'schema-id': number;
  readonly 'identifier-field-ids'?: readonly number[];
  readonly fields: readonly NestedField[];
}

export function decimalType(precision: number, scale: number): PrimitiveType {
  return `decimal(${precision}, ${scale})`;
}

/** Precision and scale of a decimal type, or undefined for other types. */
export function decimalParts(type: IcebergType): { precision: number; scale: number } | undefined {
  if (typeof type !== 'string') return undefined;
  const match = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  return match ? { precision: Number(match[1]), scale: Number(match[2]) } : undefined;
}

export function isList(type: IcebergType): type is ListType {
  return typeof type === 'object' && type.type === 'list';
}

/** Highest field id in a schema, nested element ids included. */
export function maxFieldId(schema: IcebergSchema): number {
  let max = 0;
  const visit = (id: number, type: IcebergType): void => {
    max = Math.max(max, id);
    if (isList(type)) visit(type['element-id'], type.element);
  };
  for (const field of schema.fields) visit(field.id, field.type);
  return max;
}

/**
 * A column name as Java engines write it into Parquet/Avro: characters outside [A-Za-z0-9_] (and a
 * leading digit) become `_x<HEX>`. Readers map by field id; matching Java keeps files familiar.
 */
export function avroCompatibleName(name: string): string {
  let out = '';
  for (const [i, ch] of [...name].entries()) {
    const ok = /[A-Za-z_]/.test(ch) || (i > 0 && /[0-9]/.test(ch));
    out += ok ? ch : /[0-9]/.test(ch) ? `_${ch}` : `_x${ch.codePointAt(0)!.toString(16).toUpperCase()}`;
  }
  return out;
}
