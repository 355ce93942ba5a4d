/**
 * Every metric name and label key Philotes exports. Names follow Prometheus conventions
 * (`_total` counters, `_seconds` / `_bytes` units); labels are low-cardinality (app, state, table,
 * error kind), never row values or unbounded ids.
 */
export const MetricName = {
  /** Gauge: 1 for the state the process is in, 0 for the others. */
  PipelineState: 'philotes_pipeline_state',
  /** Counter: state transitions, by target state. */
  PipelineTransitions: 'philotes_pipeline_transitions_total',
} as const;

export const Label = {
  App: 'app',
  State: 'state',
  Source: 'source',
  Table: 'table',
  ErrorKind: 'error_kind',
  Mode: 'mode',
} as const;
