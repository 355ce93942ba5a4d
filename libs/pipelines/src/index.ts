export * from './pipeline-controls';
export * from './resync';
