export * from './commands';
export * from './exit-codes';
export * from './run';
