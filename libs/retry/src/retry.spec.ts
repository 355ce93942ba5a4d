import { BackoffPolicy } from './backoff';
import { ClassifiedError, classifyError, ERROR_POLICY, neverRetry } from './error-policy';
import { retry, RetryAttempt, RetryError, sleep } from './retry';

const FAST: BackoffPolicy = { initialIntervalMs: 1, maxIntervalMs: 4, multiplier: 2, jitter: 0, maxAttempts: 4 };
const pgError = (code: string, message = 'pg error') => Object.assign(new Error(message), { code });
/** An S3 error response as @aws-sdk/client-s3 throws it. */
const s3Error = (name: string, status: number) => Object.assign(new Error(`${name} from the store`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

describe('retry', () => {
  it('returns the first success and reports each retry with its delay', async () => {
    const seen: RetryAttempt[] = [];
    let calls = 0;
    const result = await retry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw pgError('08006');
        return 'ok';
      },
      { policy: FAST, onRetry: (a) => seen.push(a) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(seen.map((a) => [a.attempt, a.delayMs, a.directive.kind])).toEqual([
      [1, 1, 'connection'],
      [2, 2, 'connection'],
    ]);
  });

  it('gives up after maxAttempts with the last error and the count', async () => {
    let calls = 0;
    const failure = await retry(
      async () => {
        calls++;
        throw pgError('40001', 'could not serialize');
      },
      { policy: FAST },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(failure).toBeInstanceOf(RetryError);
    expect(failure).toMatchObject({ attempts: 4, directive: { retry: true, kind: 'concurrency' } });
    expect((failure as RetryError).message).toBe('gave up after 4 attempts: could not serialize');
  });

  it('does not retry a permanent error', async () => {
    let calls = 0;
    const failure = await retry(
      async () => {
        calls++;
        throw pgError('22P02', 'invalid input syntax');
      },
      { policy: FAST },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(failure).toMatchObject({ attempts: 1, directive: { retry: false, kind: 'data' } });
  });

  it('stops waiting as soon as the signal aborts, with the abort reason', async () => {
    const controller = new AbortController();
    const slow: BackoffPolicy = { ...FAST, initialIntervalMs: 60_000, maxIntervalMs: 60_000, maxAttempts: Infinity };
    let calls = 0;
    const started = Date.now();
    const pending = retry(
      async () => {
        calls++;
        throw pgError('08006');
      },
      { policy: slow, signal: controller.signal, onRetry: () => controller.abort(new Error('shutting down')) },
    );
    await expect(pending).rejects.toThrow('shutting down');
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('does not start when the signal is already aborted', async () => {
    const operation = jest.fn();
    await expect(retry(operation, { policy: FAST, signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(operation).not.toHaveBeenCalled();
  });

  it('passes the signal to the operation, and an abort during it is not retried', async () => {
    const controller = new AbortController();
    let calls = 0;
    const pending = retry(
      async (_attempt, signal) => {
        calls++;
        expect(signal).toBe(controller.signal);
        controller.abort(new Error('stop'));
        throw new Error('interrupted');
      },
      { policy: FAST, signal: controller.signal },
    );
    await expect(pending).rejects.toThrow('stop');
    expect(calls).toBe(1);
  });

  it('sleep rejects on abort', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(pending).rejects.toThrow('cancelled');
  });
});

describe('classifyError', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), true, 'connection'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true, 'connection'],
    [new Error('Connection terminated unexpectedly'), true, 'connection'],
    [new Error('timeout exceeded when trying to connect'), true, 'connection'],
    [pgError('08006'), true, 'connection'],
    [pgError('40001'), true, 'concurrency'],
    [pgError('40P01'), true, 'concurrency'],
    [pgError('55P03'), true, 'concurrency'],
    [pgError('53300'), true, 'resources'],
    [pgError('57P01'), true, 'server-shutdown'],
    [pgError('57014'), true, 'server-shutdown'],
    [pgError('28P01'), false, 'authorization'],
    [pgError('42501'), false, 'authorization'],
    [pgError('22003'), false, 'data'],
    [pgError('23505'), false, 'constraint'],
    [pgError('42P01'), false, 'schema'],
    [new Error('something odd'), true, 'unknown'],
    ['a thrown string', true, 'unknown'],
    // Storage, as the AWS SDK throws it (`name` is the service's code) and as Node's fs does.
    [s3Error('AccessDenied', 403), false, 'storage'],
    [s3Error('InvalidAccessKeyId', 403), false, 'storage'],
    [s3Error('Forbidden', 403), false, 'storage'],
    [s3Error('NoSuchBucket', 404), false, 'storage'],
    [s3Error('NoSuchKey', 404), false, 'storage'],
    [s3Error('SlowDown', 503), true, 'storage'],
    [s3Error('InternalError', 500), true, 'storage'],
    [s3Error('InvalidRequest', 400), false, 'storage'],
    [s3Error('Teapot', 302), true, 'storage'],
    [Object.assign(new Error("EACCES: permission denied, open '/w/x'"), { code: 'EACCES' }), false, 'storage'],
    [Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }), false, 'storage'],
    [Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' }), false, 'storage'],
    [Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), true, 'resources'],
  ])('classifies %p as retry=%p kind=%p', (error, retryable, kind) => {
    expect(classifyError(error)).toMatchObject({ retry: retryable, kind });
  });

  it('uses the directive an error carries', () => {
    const poison = new ClassifiedError('NaN into decimal', neverRetry('poison', 'map the column'));
    expect(classifyError(poison)).toBe(poison.directive);
    expect(poison.name).toBe('ClassifiedError');
  });

  it('gives every policy row an action for the operator', () => {
    for (const row of ERROR_POLICY) expect(row.directive.action.length).toBeGreaterThan(3);
  });
});
