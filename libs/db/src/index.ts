export * from './advisory-locks';
export * from './migrations';
export * from './pool';
export * from './pool-client';
export * from './dead-peer';
