export * from './protocol';
export * from './replication-connection';
