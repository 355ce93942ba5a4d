export * from './dead-letter-actions';
export * from './dead-letter-errors';
export * from './dead-letter-filter';
export * from './dead-letter-queries';
export * from './dead-letter-retention';
export * from './dead-letter-views';
