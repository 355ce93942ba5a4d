import type { EventStore } from '@philotes/buffer';
import type { ReaderMetrics } from './reader-metrics';

/**
 * The event store, measured: each stream commit's duration (the flush histogram) and the events it
 * stored. A commit that throws stored nothing and counts nothing. Copies are counted as copied rows
 * by the copy itself, so commitCopy passes through.
 */
export function measuredEventStore(store: EventStore, metrics: Pick<ReaderMetrics, 'flushDuration' | 'eventsWritten'>): EventStore {
  return {
    commit: async (sourceId, events, checkpoint) => {
      const stopTimer = metrics.flushDuration.startTimer();
      await store.commit(sourceId, events, checkpoint);
      stopTimer();
      metrics.eventsWritten.inc(events.length);
    },
    commitCopy: (...args) => store.commitCopy(...args),
  };
}
