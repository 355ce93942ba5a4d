export * from './binaries';
export * from './embedded-postgres';
export * from './free-port';
