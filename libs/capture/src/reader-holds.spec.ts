import { PipelineState as S } from '@philotes/lifecycle';
import { holdOutcome, isHeld, operatorPauseReason, ReaderHolds } from './reader-holds';

const BP = 'backpressure: 400 unapplied events, above the high watermark 300';
const none: ReaderHolds = {};
const backpressure: ReaderHolds = { backpressure: BP };
const operator: ReaderHolds = { operator: { reason: 'schema migration' } };
const operatorNoReason: ReaderHolds = { operator: {} };
const both: ReaderHolds = { backpressure: BP, operator: { reason: 'schema migration' } };

describe('operatorPauseReason', () => {
  it('names the operator, with the reason when one was given', () => {
    expect(operatorPauseReason({ reason: 'schema migration' })).toBe('paused by operator: schema migration');
    expect(operatorPauseReason({})).toBe('paused by operator');
  });
});

describe('isHeld', () => {
  it('holds when either hold is set, and only then', () => {
    expect([none, backpressure, operator, operatorNoReason, both].map(isHeld)).toEqual([false, true, true, true, true]);
  });
});

describe('holdOutcome', () => {
  it('as streaming begins: running, or paused by whatever holds (the operator named first)', () => {
    expect(holdOutcome(undefined, none)).toEqual({ state: S.Running, reason: 'streaming' });
    expect(holdOutcome(undefined, operator)).toEqual({
      state: S.Paused,
      reason: 'paused by operator: schema migration',
      operator: { change: 'paused', reason: 'schema migration' },
    });
    expect(holdOutcome(undefined, operatorNoReason)).toEqual({ state: S.Paused, reason: 'paused by operator', operator: { change: 'paused' } });
    expect(holdOutcome(undefined, backpressure)).toEqual({ state: S.Paused, reason: BP });
    expect(holdOutcome(undefined, both)).toMatchObject({ state: S.Paused, reason: 'paused by operator: schema migration' });
  });

  // Every move between the hold combinations, written out: [before, after, expected outcome].
  const table: Array<[string, ReaderHolds, ReaderHolds, ReturnType<typeof holdOutcome>]> = [
    ['nothing changes', none, none, undefined],
    ['nothing changes while paused', operator, operator, undefined],
    ['nothing changes under both', both, both, undefined],
    ['backpressure starts', none, backpressure, { state: S.Paused, reason: BP }],
    ['backpressure ends', backpressure, none, { state: S.Running, reason: 'backpressure released' }],
    ['the operator pauses', none, operator, { state: S.Paused, reason: 'paused by operator: schema migration', operator: { change: 'paused', reason: 'schema migration' } }],
    ['the operator pauses without a reason', none, operatorNoReason, { state: S.Paused, reason: 'paused by operator', operator: { change: 'paused' } }],
    ['the operator resumes', operator, none, { state: S.Running, reason: 'resumed by operator', operator: { change: 'resumed' } }],
    ['the operator changes the reason', operator, operatorNoReason, { state: S.Paused, reason: 'paused by operator', operator: { change: 'updated' } }],
    ['the operator pauses under backpressure: the operator is named', backpressure, both, { state: S.Paused, reason: 'paused by operator: schema migration', operator: { change: 'paused', reason: 'schema migration' } }],
    ['backpressure starts under the operator: nothing visible changes', operator, both, undefined],
    ['backpressure ends under the operator: still paused by the operator', both, operator, undefined],
    ['the operator resumes under backpressure: paused by backpressure', both, backpressure, { state: S.Paused, reason: BP, operator: { change: 'resumed' } }],
    ['both start at once', none, both, { state: S.Paused, reason: 'paused by operator: schema migration', operator: { change: 'paused', reason: 'schema migration' } }],
    ['both end at once', both, none, { state: S.Running, reason: 'resumed by operator', operator: { change: 'resumed' } }],
    ['the operator takes over from backpressure', backpressure, operator, { state: S.Paused, reason: 'paused by operator: schema migration', operator: { change: 'paused', reason: 'schema migration' } }],
    ['backpressure takes over from the operator', operator, backpressure, { state: S.Paused, reason: BP, operator: { change: 'resumed' } }],
  ];

  it.each(table)('%s', (_name, before, after, expected) => {
    expect(holdOutcome(before, after)).toEqual(expected);
  });

  it('runs only when neither hold holds, whichever is released last naming the resume', () => {
    const walk = (sequence: ReaderHolds[]) => sequence.slice(1).map((holds, i) => holdOutcome(sequence[i], holds)).map((o) => o && `${o.state}: ${o.reason}`);
    expect(walk([none, backpressure, both, operator, none])).toEqual([
      `paused: ${BP}`,
      'paused: paused by operator: schema migration',
      undefined,
      'running: resumed by operator',
    ]);
    expect(walk([none, operator, both, backpressure, none])).toEqual([
      'paused: paused by operator: schema migration',
      undefined,
      `paused: ${BP}`,
      'running: backpressure released',
    ]);
  });
});
