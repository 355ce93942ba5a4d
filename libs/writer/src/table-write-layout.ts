import { currentSchema, DataFileOptions, effectiveProperties, FormatVersion, IcebergSchema, lineageNameClash, metadataChangedBy, parquetOptionsOf, resolveSortOrder, sameProperties, SortColumn, SortField, TableMetadata, targetFileSizeOf, WRITE_PROPERTIES, writableSortOrder } from '@philotes/iceberg';
import { ClassifiedError, needsOperator } from '@philotes/retry';

/** The PHILOTES_ICEBERG_* settings about how a table's files are written, derived once per (re)load. */
export interface TableWriteSettings {
  /** Properties from the global settings the operator set (unset ones are absent, so a table's own property stands). */
  readonly globalProperties: Readonly<Record<string, string>>;
  /** By {@link tableKey}: PHILOTES_ICEBERG_TABLE_PROPERTIES. */
  readonly tableProperties: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** By {@link tableKey}: PHILOTES_ICEBERG_SORT_ORDER. */
  readonly sortOrders: ReadonlyMap<string, readonly SortColumn[]>;
}

/** A source table's key in the per-table settings: exact names, so dots and quotes in them stay unambiguous. */
export function tableKey(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}

/**
 * The settings' name for the table's format version, among the properties as Iceberg's own
 * property tooling names it (Spark's SET TBLPROPERTIES): it is taken out before they are
 * recorded, since Iceberg reserves it, and becomes the metadata's format-version.
 */
const FORMAT_VERSION = 'format-version';

/** The configured properties without format-version, and the format version they ask for. */
export function splitFormatVersion(configured: Readonly<Record<string, string>>): { readonly properties: Record<string, string>; readonly formatVersion?: FormatVersion } {
  const { [FORMAT_VERSION]: asked, ...properties } = configured;
  return asked === undefined ? { properties } : { properties, formatVersion: Number(asked) as FormatVersion };
}

/** The global settings as the table properties they stand for; codec and level from `zstd(3)`. */
export function globalWriteProperties(config: {
  readonly icebergParquetCompression?: string;
  readonly icebergParquetRowGroupSize?: number;
  readonly icebergParquetPageSize?: number;
  readonly icebergFormatVersion?: number;
}): Record<string, string> {
  const properties: Record<string, string> = {};
  if (config.icebergFormatVersion !== undefined) properties[FORMAT_VERSION] = String(config.icebergFormatVersion);
  if (config.icebergParquetCompression !== undefined) {
    const [, codec, level] = /^([a-z]+)(?:\((\d+)\))?$/.exec(config.icebergParquetCompression) ?? [];
    properties[WRITE_PROPERTIES.codec] = codec;
    if (level !== undefined) properties[WRITE_PROPERTIES.level] = level;
  }
  if (config.icebergParquetRowGroupSize !== undefined) properties[WRITE_PROPERTIES.rowGroupBytes] = String(config.icebergParquetRowGroupSize);
  if (config.icebergParquetPageSize !== undefined) properties[WRITE_PROPERTIES.pageBytes] = String(config.icebergParquetPageSize);
  return properties;
}

/** A configured sort order names a column the table lacks: the table stops until the setting or the table is fixed. */
export class SortOrderError extends ClassifiedError {
  constructor(table: string, problems: readonly string[]) {
    super(`table ${table}: PHILOTES_ICEBERG_SORT_ORDER: ${problems.join('; ')}`, needsOperator('configuration', 'fix PHILOTES_ICEBERG_SORT_ORDER for this table and restart the writer'));
  }
}

/**
 * A v3 table (or one asked to become one) with a column named as a row-lineage column: its
 * compacted files could not hold both. The table stops until the column is renamed or, for a
 * table not yet v3, format-version 2 is set for it.
 */
export class LineageNameError extends ClassifiedError {
  constructor(table: string, column: string) {
    super(
      `table ${table}: its column ${column} has the name of a row-lineage column format version 3 writes (_row_id, _last_updated_sequence_number)`,
      needsOperator('configuration', 'rename the source column, or set format-version=2 for this table in PHILOTES_ICEBERG_TABLE_PROPERTIES (a table already at v3 needs a resync after that), then resume the table'),
    );
  }
}

/** Throws {@link LineageNameError} when a table at `version` cannot have these fields. */
export function assertLineageNames(table: string, version: FormatVersion, fields: IcebergSchema['fields']): void {
  const clash = version >= 3 ? lineageNameClash(fields) : undefined;
  if (clash) throw new LineageNameError(table, clash);
}

/** `targetFileSize` is PHILOTES_ICEBERG_TARGET_FILE_SIZE, the default of write.target-file-size-bytes. */
/** How one commit writes a table's files, and the metadata changes it records alongside. */
export interface WriteLayout {
  /** Set when the effective properties differ from the recorded ones. */
  readonly properties?: Record<string, string>;
  /** Set when a sort order is configured for the table. */
  readonly sortOrder?: readonly SortField[];
  readonly options: DataFileOptions;
  readonly targetFileSize: number;
  /** Set when the settings ask for a higher format version than the table's: the commit upgrades it. */
  readonly formatVersion?: FormatVersion;
  /** Set when the settings ask for a lower one: a table is never downgraded, so it keeps its own. */
  readonly downgradeRefused?: { readonly asked: FormatVersion; readonly kept: FormatVersion };
}

/**
 * Precedence, highest first: the table's own setting, a global setting the operator set, the
 * table's recorded property, the default. The files are written as the resulting properties say,
 * so a property another engine recorded is honoured where no setting overrides it.
 */
export function writeLayoutOf(metadata: TableMetadata, ref: { readonly schema: string; readonly table: string }, settings: TableWriteSettings, targetFileSize: number, schema?: Omit<IcebergSchema, 'schema-id'>): WriteLayout {
  const key = tableKey(ref.schema, ref.table);
  const { properties, formatVersion: asked } = splitFormatVersion(effectiveProperties(metadata.properties, settings.globalProperties, settings.tableProperties.get(key) ?? {}));
  const version = metadata['format-version'];
  const columns = settings.sortOrders.get(key);
  let sortOrder: SortField[] | undefined;
  if (columns) {
    const resolved = resolveSortOrder(columns, schema ?? currentSchema(metadata));
    if (resolved.problems.length > 0) throw new SortOrderError(`${ref.schema}.${ref.table}`, resolved.problems);
    sortOrder = resolved.fields;
  }
  assertLineageNames(`${ref.schema}.${ref.table}`, asked !== undefined && asked > version ? asked : version, (schema ?? currentSchema(metadata)).fields);
  const changed = !sameProperties(properties, metadata.properties);
  // The order id the files carry is the one the commit will record (reused when equal).
  const after = metadataChangedBy(metadata, { ...(sortOrder ? { sortOrder } : {}) });
  return {
    ...(changed ? { properties } : {}),
    ...(sortOrder ? { sortOrder } : {}),
    options: { parquet: parquetOptionsOf(properties), sort: writableSortOrder(after) },
    targetFileSize: targetFileSizeOf(properties, targetFileSize),
    ...(asked !== undefined && asked > version ? { formatVersion: asked } : {}),
    ...(asked !== undefined && asked < version ? { downgradeRefused: { asked, kept: version } } : {}),
  };
}
