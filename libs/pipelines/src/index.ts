export * from './pipeline-controls';
export * from './pipeline-view';
