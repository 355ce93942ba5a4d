export * from './pipeline-controls';
export * from './pipeline-view';
export * from './resync';
