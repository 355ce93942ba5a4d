export * from './bootstrap';
export * from './core.module';
export * from './health-checks';
export * from './lifecycle.service';
export * from './pipeline-worker';
export * from './process-context';
export * from './tokens';
export * from './app-modules';
