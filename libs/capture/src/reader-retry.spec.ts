import { PipelineState } from '@philotes/lifecycle';
import { classifyError, ClassifiedError, needsOperator } from '@philotes/retry';
import { LostSlotError, ReaderConfigurationError } from './errors';
import { readerRetry } from './reader-retry';

const decide = (error: unknown) => readerRetry(error, classifyError(error), 3, 400);
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('the reader after a failed session', () => {
  it('gives up on a lost slot, its own configuration, and anything only an operator can fix', () => {
    expect(decide(new LostSlotError('philotes', 'src', 'it no longer exists on the source'))).toEqual({ kind: 'give-up' });
    expect(decide(new ReaderConfigurationError('PHILOTES_CDC_SNAPSHOT_MODE must be initial'))).toEqual({ kind: 'give-up' });
    expect(decide(pgError('28P01', 'password authentication failed'))).toEqual({ kind: 'give-up' });
    expect(decide(new ClassifiedError('pk changed', needsOperator('schema', 'resync')))).toEqual({ kind: 'give-up' });
  });

  it('waits paused, in the database own words and with what to do, while the database has no room', () => {
    const full = decide(pgError('53100', 'could not extend file "base/16384/16400": No space left on device'));
    expect(full).toEqual({
      kind: 'retry',
      state: PipelineState.Paused,
      reason: 'waiting for the database to have room: could not extend file "base/16384/16400": No space left on device (the database is out of disk, memory or connections; free some); retrying in 400 ms, attempt 3',
    });
  });

  it('reconnects, starting, after anything else that clears by itself', () => {
    expect(decide(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toEqual({
      kind: 'retry',
      state: PipelineState.Starting,
      reason: 'reconnecting after a connection error (attempt 3, next in 400 ms)',
    });
    expect(decide(pgError('57P01', 'terminating connection due to administrator command'))).toMatchObject({ state: PipelineState.Starting });
  });
});
