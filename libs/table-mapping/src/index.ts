// What a source table becomes in Iceberg, shared by the writer and verify: the type mapping, the
// table's layout and identity, the fold of changes into rows, TOAST lookups and replay schemas.
export * from './batch-assembler';
export * from './mapping-fixtures';
export * from './partitioning';
export * from './replay-schema';
export * from './table-identity';
export * from './table-layout';
export * from './toast-lookup';
export * from './type-mapping';
