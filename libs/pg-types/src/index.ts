export * from './array-text';
export * from './builtin-types';
export * from './datetime';
export * from './text-parsers';
export * from './json-view';
