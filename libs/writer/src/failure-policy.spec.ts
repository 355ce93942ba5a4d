import { classifyError, ClassifiedError, needsOperator, timedRetry } from '@philotes/retry';
import { failsTableAfter } from './failure-policy';

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
