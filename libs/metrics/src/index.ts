export * from './metric-names';
export * from './registry';
