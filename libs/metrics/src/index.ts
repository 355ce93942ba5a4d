export * from './metric-names';
export * from './metrics.controller';
export * from './metrics.module';
export * from './registry';
