export * from './instance-reporter';
export * from './instance-store';
export * from './pipeline-state';
export * from './state-machine';
