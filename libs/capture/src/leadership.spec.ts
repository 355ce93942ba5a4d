import { waitToLead } from './leadership';

/** A leader lock another reader holds for the first `heldFor` tries. */
function lockHeldFor(heldFor: number) {
  const tries: string[] = [];
  return {
    tries,
    lock: {
      tryAcquire: async (sourceId: string) => {
        tries.push(sourceId);
        return tries.length > heldFor;
      },
    },
  };
}

describe('waitToLead', () => {
  it('leads at once when the lock is free, without standing by', async () => {
    const { lock, tries } = lockHeldFor(0);
    let standbys = 0;
    expect(await waitToLead({ sourceId: 'src', lock, pollMs: 1, onStandby: () => standbys++ }, new AbortController().signal)).toBe(true);
    expect([tries, standbys]).toEqual([['src'], 0]);
  });

  it('stands by once while another reader leads, and takes over when the lock frees', async () => {
    const { lock, tries } = lockHeldFor(4);
    let standbys = 0;
    expect(await waitToLead({ sourceId: 'src', lock, pollMs: 1, onStandby: () => standbys++ }, new AbortController().signal)).toBe(true);
    expect([tries.length, standbys]).toEqual([5, 1]);
  });

  it('gives up standing by when the reader stops, and tries no more', async () => {
    const { lock, tries } = lockHeldFor(Infinity);
    const stop = new AbortController();
    const waiting = waitToLead({ sourceId: 'src', lock, pollMs: 3_600_000, onStandby: () => stop.abort() }, stop.signal);
    await expect(waiting).resolves.toBe(false);
    expect(tries).toHaveLength(1);
  });
});
