export type { Logger } from 'winston';
export * from './logger';
export * from './nest-logger';
export * from './redact';
