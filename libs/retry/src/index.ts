export * from './backoff';
export * from './error-policy';
export * from './retry';
