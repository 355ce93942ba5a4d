export * from './config-store';
export * from './connections';
export * from './duration';
export * from './listen-address';
export * from './load';
export * from './reference';
export * from './settings';
export type { SettingDefinition, SettingKind } from './setting';
export * from './size';
