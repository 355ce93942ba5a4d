export * from './canonical';
export * from './consistent-point';
export * from './table-verify';
export * from './verify-run';
