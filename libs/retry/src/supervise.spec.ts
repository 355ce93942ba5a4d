import { BackoffPolicy } from './backoff';
import { ClassifiedError, ERROR_POLICY, needsOperator } from './error-policy';
import { RetryAttempt } from './retry';
import { EndedUnexpectedlyError, supervise } from './supervise';

const FAST: BackoffPolicy = { initialIntervalMs: 1, maxIntervalMs: 8, multiplier: 2, jitter: 0, maxAttempts: Infinity };
const dropped = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });

describe('supervise', () => {
  it('runs again after each failure with a growing backoff, releasing after every run, until stopped', async () => {
    const stop = new AbortController();
    const events: string[] = [];
    const retries: RetryAttempt[] = [];
    let runs = 0;
    const end = await supervise(
      'the session',
      async () => {
        runs++;
        events.push(`run ${runs}`);
        if (runs === 4) {
          stop.abort();
          return;
        }
        throw dropped();
      },
      { signal: stop.signal, backoff: () => FAST, release: async () => void events.push('release'), onRetry: (a) => retries.push(a) },
    );
    expect(end).toEqual({ kind: 'stopped' });
    expect(events).toEqual(['run 1', 'release', 'run 2', 'release', 'run 3', 'release', 'run 4', 'release']);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.directive.kind])).toEqual([
      [1, 1, 'connection'],
      [2, 2, 'connection'],
      [3, 4, 'connection'],
    ]);
  });

  it('counts from attempt 1 again once the work said it is up, or lasted long enough', async () => {
    const stop = new AbortController();
    const attempts: number[] = [];
    let runs = 0;
    await supervise(
      'the session',
      async (_signal, healthy) => {
        runs++;
        if (runs === 3) healthy();
        if (runs === 5) stop.abort();
        else throw dropped();
      },
      { signal: stop.signal, backoff: () => FAST, onRetry: (a) => attempts.push(a.attempt) },
    );
    expect(attempts).toEqual([1, 2, 1, 2]);

    const clock = { ms: 0 };
    const again = new AbortController();
    const lasting: number[] = [];
    let calls = 0;
    await supervise(
      'the session',
      async () => {
        calls++;
        if (calls === 3) clock.ms += 60_000; // this run streamed for a minute before it failed
        if (calls === 4) again.abort();
        else throw dropped();
      },
      { signal: again.signal, backoff: () => FAST, healthyAfterMs: 30_000, now: () => clock.ms, onRetry: (a) => lasting.push(a.attempt) },
    );
    expect(lasting).toEqual([1, 2, 1]);
  });

  it('gives up on a failure it is told is for good, with its directive, after releasing', async () => {
    const stop = new AbortController();
    const events: string[] = [];
    const fatal = new ClassifiedError('the slot is gone', needsOperator('configuration', 'resync the source'));
    const end = await supervise(
      'the session',
      async () => {
        events.push('run');
        throw events.length === 1 ? dropped() : fatal;
      },
      { signal: stop.signal, backoff: () => FAST, release: async () => void events.push('release'), giveUp: (_error, directive) => directive.recovery !== 'timed' },
    );
    expect(end).toEqual({ kind: 'gave-up', error: fatal, directive: fatal.directive });
    expect(events).toEqual(['run', 'release', 'run', 'release']);
  });

  it('treats a run that returns while it should still work as a failure', async () => {
    const stop = new AbortController();
    const errors: unknown[] = [];
    let runs = 0;
    await supervise(
      'the reader session',
      async () => {
        if (++runs === 2) stop.abort();
      },
      { signal: stop.signal, backoff: () => FAST, onRetry: (a) => errors.push(a.error) },
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(EndedUnexpectedlyError);
    expect((errors[0] as Error).message).toBe('the reader session ended unexpectedly');
  });

  it('stops waiting at once when the signal aborts during the backoff', async () => {
    const stop = new AbortController();
    let runs = 0;
    const slow: BackoffPolicy = { ...FAST, initialIntervalMs: 3_600_000, maxIntervalMs: 3_600_000 };
    const end = supervise('the session', async () => {
      runs++;
      throw dropped();
    }, { signal: stop.signal, backoff: () => slow, onRetry: () => stop.abort() });
    await expect(end).resolves.toEqual({ kind: 'stopped' });
    expect(runs).toBe(1);
  });
});

describe('the error policy', () => {
  it('gives every row a recovery that agrees with retry, and sends only the event-level errors to never', () => {
    for (const row of ERROR_POLICY) {
      expect([row.when, row.directive.retry]).toEqual([row.when, row.directive.recovery === 'timed']);
      if (row.directive.recovery === 'never') expect(['data', 'constraint']).toContain(row.directive.kind);
    }
    const recoveries = new Set(ERROR_POLICY.map((row) => row.directive.recovery));
    expect([...recoveries].sort()).toEqual(['never', 'operator', 'timed']);
  });
});
