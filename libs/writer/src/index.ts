// The iceberg-writer's logic: scheduling and leases, the table writer and its commits, failure
// state, upkeep and buffer retention.
export * from './buffer-retention';
export * from './lease-connection';
export * from './table-upkeep';
export * from './table-writer';
export * from './writer-metrics';
export * from './writer-service';
export * from './writer-settings';
export * from './key-index/key-index';
export * from './key-index/memory-key-index';
export * from './key-index/postgres-key-index';
export * from './key-index/cached-key-index';
export * from './key-index/rebuild';
export * from './key-index/keyed-deletes';
export * from './key-index/keyed-rows';
export * from './key-index/check';
