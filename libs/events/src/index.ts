export * from './codec';
export * from './payload';
export * from './value-kind';
export * from './values';
export * from './pack-buffer';
export * from './payload-reader';
