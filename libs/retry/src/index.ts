export * from './backoff';
export * from './error-policy';
export * from './retry';
export * from './supervise';
export * from './sqlstate';
