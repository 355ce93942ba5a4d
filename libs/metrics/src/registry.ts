import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per process, with Node's process metrics (CPU, memory, event-loop lag, GC). */
export function createRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
