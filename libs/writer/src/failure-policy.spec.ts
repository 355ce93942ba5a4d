import { classifyError, ClassifiedError, needsOperator, timedRetry } from '@philotes/retry';
import { afterFailure, failsTableAfter } from './failure-policy';

const directive = (retry: boolean, kind: Parameters<typeof failsTableAfter>[0]['kind']) => (retry ? timedRetry(kind, 'x') : needsOperator(kind, 'x'));

describe('when a table fails', () => {
  it.each([
    ['connection', true, Infinity],
    ['server-shutdown', true, Infinity],
    ['concurrency', true, Infinity],
    ['conflict', true, Infinity],
    ['resources', true, Infinity],
    ['storage', true, Infinity],
    ['poison', true, Infinity],
    ['unknown', true, 12],
    ['schema', false, 3],
    ['storage', false, 3],
    ['data', false, 3],
    ['poison', false, 3],
  ] as const)('a %s error (retry=%p) fails it after %p attempts', (kind, retry, after) => {
    expect(failsTableAfter(directive(retry, kind), 3)).toBe(after);
  });

  it('fails a table whose storage refuses access, never one whose buffer connection dropped', () => {
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(failsTableAfter(classifyError(denied), 3)).toBe(3);
    expect(failsTableAfter(classifyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 3)).toBe(Infinity);
    expect(failsTableAfter(classifyError(new ClassifiedError('pk changed', needsOperator('schema', 'resync'))), 3)).toBe(3);
  });
});

describe('after a failure', () => {
  const settings = { backoff: { initialIntervalMs: 1_000, maxIntervalMs: 60_000, multiplier: 2, jitter: 0, maxAttempts: Infinity }, maxAttempts: 3 };
  const connection = classifyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  const schema = needsOperator('schema', 'resync');
  const facts = (over: Partial<Parameters<typeof afterFailure>[0]>) => ({ directive: connection, changedUnderUs: false, kind: 'step' as const, attempt: 1, stepFailures: 1, ...over });

  it('reloads a table another writer moved, soon, whatever the error says', () => {
    expect(afterFailure(facts({ changedUnderUs: true, attempt: 1 }), settings)).toEqual({ action: 'reload', retryInMs: 250 });
    expect(afterFailure(facts({ changedUnderUs: true, attempt: 9, directive: schema }), settings)).toEqual({ action: 'reload', retryInMs: 1_000 });
  });

  it('backs off a timed failure by its attempt and warns; waits the longest for one an operator must fix, and says so as an error', () => {
    expect([1, 2, 3, 7, 20].map((attempt) => afterFailure(facts({ attempt }), settings))).toEqual(
      [1_000, 2_000, 4_000, 60_000, 60_000].map((retryInMs) => ({ action: 'retry', retryInMs, level: 'warn', failTable: false })),
    );
    expect(afterFailure(facts({ directive: schema, attempt: 1 }), settings)).toEqual({ action: 'retry', retryInMs: 60_000, level: 'error', failTable: false });
  });

  it('fails the table once its failed steps reach the limit, never for upkeep or a shared cause', () => {
    expect(afterFailure(facts({ directive: schema, stepFailures: 3 }), settings)).toMatchObject({ failTable: true });
    expect(afterFailure(facts({ directive: schema, stepFailures: 2 }), settings)).toMatchObject({ failTable: false });
    expect(afterFailure(facts({ directive: schema, stepFailures: 3, kind: 'upkeep' }), settings)).toMatchObject({ failTable: false });
    expect(afterFailure(facts({ stepFailures: 1_000 }), settings)).toMatchObject({ failTable: false });
  });
});
