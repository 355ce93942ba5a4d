export * from './decoder';
export * from './lsn';
export * from './messages';
export * from './pg-epoch';
