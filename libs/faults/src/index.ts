export * from './fault-injector';
export * from './seeded-random';
