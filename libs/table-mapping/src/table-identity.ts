import { TableIdentifier, TableMetadata } from '@philotes/iceberg';
import { ClassifiedError, needsOperator } from '@philotes/retry';

/** A source table by name: what an Iceberg table mirrors. */
export interface SourceTableName {
  readonly sourceId: string;
  readonly schema: string;
  readonly table: string;
}

/**
 * Table properties that name the source table an Iceberg table mirrors. Set when Philotes creates
 * the table; a writer refuses a table whose properties name another one.
 */
export const SOURCE_PROPERTIES = {
  sourceId: 'philotes.source-id',
  schema: 'philotes.source-schema',
  table: 'philotes.source-table',
} as const;

/** What tables made before these properties recorded: the source, and `schema.table` in one string. */
const LEGACY_SOURCE = 'philotes.source';

export const DEFAULT_NAMESPACE_TEMPLATE = '{schema}';

/**
 * A schema name as one namespace level. The SQL catalog joins levels with '.', so a '.' inside a
 * name must not read as a separator: '%' and '.' are percent-escaped (injective, and the
 * everyday name stays as it is).
 */
export function namespaceLevel(name: string): string {
  return name.replace(/%/g, '%25').replace(/\./g, '%2E');
}

/**
 * The Iceberg identifier of a source table: the namespace from the template (`{source}` and
 * `{schema}` replaced, each as one escaped level or part of one), the table's own name as the
 * table name (any string is a legal Iceberg table name). With `{schema}` in the template (config
 * validation insists) one source's tables never share a name; `{source}` keeps sources apart. A
 * template that still joins two tables — `{source}_{schema}` can, for names with `_` — is caught
 * by the owner check ({@link ownershipProblem}), never merged.
 */
export function icebergIdentifier(template: string, ref: SourceTableName): TableIdentifier {
  const namespace = (template || DEFAULT_NAMESPACE_TEMPLATE).replace(/\{(source|schema)\}/g, (_, part: string) => namespaceLevel(part === 'source' ? ref.sourceId : ref.schema));
  return { namespace, name: ref.table };
}

/**
 * Where releases before the namespace template put a table whose schema name holds '.' or '%'
 * (the schema as it is, so `a.b` was two levels); undefined when that is the identifier anyway or
 * the template is not the default.
 */
export function legacyIdentifier(template: string, ref: SourceTableName): TableIdentifier | undefined {
  if ((template || DEFAULT_NAMESPACE_TEMPLATE) !== DEFAULT_NAMESPACE_TEMPLATE || !/[.%]/.test(ref.schema)) return undefined;
  return { namespace: ref.schema, name: ref.table };
}

/** The properties a new Iceberg table gets for the source table it mirrors. */
export function sourceProperties(ref: SourceTableName): Record<string, string> {
  return { [SOURCE_PROPERTIES.sourceId]: ref.sourceId, [SOURCE_PROPERTIES.schema]: ref.schema, [SOURCE_PROPERTIES.table]: ref.table };
}

/** The source table an Iceberg table's properties name; undefined when they name none. */
export function ownerOf(properties: Readonly<Record<string, string>>): SourceTableName | { readonly sourceId: string; readonly qualified: string } | undefined {
  const sourceId = properties[SOURCE_PROPERTIES.sourceId];
  const schema = properties[SOURCE_PROPERTIES.schema];
  const table = properties[SOURCE_PROPERTIES.table];
  if (sourceId !== undefined && schema !== undefined && table !== undefined) return { sourceId, schema, table };
  const legacy = properties[LEGACY_SOURCE];
  if (legacy !== undefined && table !== undefined) return { sourceId: legacy, qualified: table };
  return undefined;
}

/** Why `ref` must not be written into this table (it mirrors another source table); undefined when it may. */
export function ownershipProblem(metadata: Pick<TableMetadata, 'properties'>, ref: SourceTableName): string | undefined {
  const owner = ownerOf(metadata.properties);
  if (!owner) return 'its properties name no source table (it was not created by Philotes)';
  const same = 'qualified' in owner ? owner.sourceId === ref.sourceId && owner.qualified === `${ref.schema}.${ref.table}` : owner.sourceId === ref.sourceId && owner.schema === ref.schema && owner.table === ref.table;
  if (same) return undefined;
  const named = 'qualified' in owner ? `${owner.qualified}` : `${JSON.stringify(owner.schema)}.${JSON.stringify(owner.table)}`;
  return `it mirrors ${named} of source "${owner.sourceId}"`;
}

/**
 * The Iceberg table a source table maps to mirrors another one. Never retried by itself: the
 * naming template, the source id or the catalog must change first.
 */
export class TableOwnershipError extends ClassifiedError {
  constructor(ref: SourceTableName, id: TableIdentifier, problem: string) {
    super(
      `table ${ref.schema}.${ref.table} of source "${ref.sourceId}" maps to Iceberg table ${id.namespace}.${id.name}, but ${problem}`,
      needsOperator(
        'configuration',
        'give the sources or schemas their own namespaces (PHILOTES_ICEBERG_NAMESPACE with {source} and {schema}), or drop or rename the Iceberg table in the catalog; a renamed PHILOTES_CDC_SOURCE_ID keeps its tables only by renaming it back',
      ),
    );
  }
}
