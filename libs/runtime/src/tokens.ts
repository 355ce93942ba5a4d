/** DI tokens for what every Philotes process has; see {@link ProcessContext}. */
export const CONFIG_STORE = Symbol('CONFIG_STORE');
export const LOGGER = Symbol('LOGGER');
export const BUFFER_POOL = Symbol('BUFFER_POOL');
export const STATE_MACHINE = Symbol('STATE_MACHINE');
export const INSTANCE_IDENTITY = Symbol('INSTANCE_IDENTITY');
/** The app's pipeline workers (an array), started after boot and drained on shutdown. */
export const PIPELINE_WORKERS = Symbol('PIPELINE_WORKERS');
export const FAULTS = Symbol('FAULTS');
