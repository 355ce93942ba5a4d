/**
 * The Avro writer schemas of manifests and manifest lists, format v2 (spec, "Manifests" and
 * "Manifest Lists"), with Java's record names (manifest_entry, r2, r102, k117_v118, manifest_file,
 * r508): readers that resolve schemas by name, like iceberg-rust, depend on them.
 */
const optional = (type: unknown) => ['null', type];

const intMap = (name: string, keyId: number, valueId: number, valueType: 'long' | 'bytes', fieldId: number, doc: string) => ({
  name,
  type: optional({
    type: 'array',
    items: {
      type: 'record',
      name: `k${keyId}_v${valueId}`,
      fields: [
        { name: 'key', type: 'int', 'field-id': keyId },
        { name: 'value', type: valueType, 'field-id': valueId },
      ],
    },
    logicalType: 'map',
  }),
  doc,
  default: null,
  'field-id': fieldId,
});

/** The data_file fields format version 3 adds (spec, Manifests, v3): row lineage and deletion-vector blobs. */
const V3_FIRST_ROW_ID = { name: 'first_row_id', type: optional('long'), doc: 'The _row_id of the first row in the data file', default: null, 'field-id': 142 };
const V3_BLOB_FIELDS = [
  { name: 'content_offset', type: optional('long'), doc: 'The offset in the file where the content starts', default: null, 'field-id': 144 },
  { name: 'content_size_in_bytes', type: optional('long'), doc: 'The length of referenced content stored in the file', default: null, 'field-id': 145 },
];

/**
 * The manifest entry of one partition spec: the partition record r102 has a field per partition
 * field (see partitionAvroFields); for an unpartitioned table it has none. Format version 3
 * adds first_row_id (142) before referenced_data_file (143) and the blob fields (144, 145) after
 * it, in the spec's order of the v3 data_file struct.
 */
export const manifestEntrySchema = (partitionFields: readonly object[], formatVersion: 2 | 3 = 2) => ({
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    { name: 'snapshot_id', type: optional('long'), default: null, 'field-id': 1 },
    { name: 'sequence_number', type: optional('long'), default: null, 'field-id': 3 },
    { name: 'file_sequence_number', type: optional('long'), default: null, 'field-id': 4 },
    {
      name: 'data_file',
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          { name: 'content', type: 'int', doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes', 'field-id': 134 },
          { name: 'file_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 100 },
          { name: 'file_format', type: 'string', doc: 'File format name: avro, orc, or parquet', 'field-id': 101 },
          { name: 'partition', type: { type: 'record', name: 'r102', fields: partitionFields }, doc: 'Partition data tuple, schema based on the partition spec', 'field-id': 102 },
          { name: 'record_count', type: 'long', doc: 'Number of records in the file', 'field-id': 103 },
          { name: 'file_size_in_bytes', type: 'long', doc: 'Total file size in bytes', 'field-id': 104 },
          intMap('column_sizes', 117, 118, 'long', 108, 'Map of column id to total size on disk'),
          intMap('value_counts', 119, 120, 'long', 109, 'Map of column id to total count, including null and NaN'),
          intMap('null_value_counts', 121, 122, 'long', 110, 'Map of column id to null value count'),
          intMap('nan_value_counts', 138, 139, 'long', 137, 'Map of column id to number of NaN values in the column'),
          intMap('lower_bounds', 126, 127, 'bytes', 125, 'Map of column id to lower bound'),
          intMap('upper_bounds', 129, 130, 'bytes', 128, 'Map of column id to upper bound'),
          { name: 'key_metadata', type: optional('bytes'), doc: 'Encryption key metadata blob', default: null, 'field-id': 131 },
          { name: 'split_offsets', type: optional({ type: 'array', items: 'long', 'element-id': 133 }), doc: 'Splittable offsets', default: null, 'field-id': 132 },
          { name: 'equality_ids', type: optional({ type: 'array', items: 'int', 'element-id': 136 }), doc: 'Equality comparison field IDs', default: null, 'field-id': 135 },
          { name: 'sort_order_id', type: optional('int'), doc: 'Sort order ID', default: null, 'field-id': 140 },
          ...(formatVersion >= 3 ? [V3_FIRST_ROW_ID] : []),
          { name: 'referenced_data_file', type: optional('string'), doc: 'Fully qualified location (URI with FS scheme) of a data file that all deletes reference', default: null, 'field-id': 143 },
          ...(formatVersion >= 3 ? V3_BLOB_FIELDS : []),
        ],
      },
      'field-id': 2,
    },
  ],
});

/** The manifest entry of an unpartitioned table. */
export const MANIFEST_ENTRY_SCHEMA = manifestEntrySchema([]);

const MANIFEST_FILE_V2 = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', doc: 'Total file size in bytes', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', doc: 'Spec ID used to write', 'field-id': 502 },
    { name: 'content', type: 'int', doc: 'Contents of the manifest: 0=data, 1=deletes', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', doc: 'Sequence number when the manifest was added', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', doc: 'Lowest sequence number in the manifest', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', doc: 'Snapshot ID that added the manifest', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', doc: 'Added entry count', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', doc: 'Existing entry count', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', doc: 'Deleted entry count', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', doc: 'Added rows count', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', doc: 'Existing rows count', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', doc: 'Deleted rows count', 'field-id': 514 },
    {
      name: 'partitions',
      type: optional({
        type: 'array',
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', doc: 'True if any file has a null partition value', 'field-id': 509 },
            { name: 'contains_nan', type: optional('boolean'), doc: 'True if any file has a nan partition value', default: null, 'field-id': 518 },
            { name: 'lower_bound', type: optional('bytes'), doc: 'Partition lower bound for all files', default: null, 'field-id': 510 },
            { name: 'upper_bound', type: optional('bytes'), doc: 'Partition upper bound for all files', default: null, 'field-id': 511 },
          ],
        },
        'element-id': 508,
      }),
      doc: 'Summary for each partition',
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: optional('bytes'), doc: 'Encryption key metadata blob', default: null, 'field-id': 519 },
  ],
};

/** The manifest list's entry; format version 3 adds first_row_id (520). */
export const manifestFileSchema = (formatVersion: 2 | 3) =>
  formatVersion >= 3
    ? { ...MANIFEST_FILE_V2, fields: [...MANIFEST_FILE_V2.fields, { name: 'first_row_id', type: optional('long'), doc: 'Starting row ID to assign to new rows in ADDED data files', default: null, 'field-id': 520 }] }
    : MANIFEST_FILE_V2;

export const MANIFEST_FILE_SCHEMA = manifestFileSchema(2);
