export * from './fault-injector';
