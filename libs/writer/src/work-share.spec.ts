import { planShare } from './work-share';

const ME = 100;

describe('planShare', () => {
  it('takes every table when it is the only writer', () => {
    const plan = planShare({ eligible: [1, 2, 3, 4], holders: new Map(), liveWriters: 1, myPid: ME });
    expect(plan.share).toBe(4);
    expect(plan.take).toBe(4);
    expect([...plan.candidates].sort()).toEqual([1, 2, 3, 4]);
    expect(plan.release).toEqual([]);
  });

  it('takes one table at a time while another writer is idle, so two starting writers split evenly', () => {
    const plan = planShare({ eligible: [1, 2, 3, 4], holders: new Map(), liveWriters: 2, myPid: ME });
    expect(plan.share).toBe(2);
    expect(plan.take).toBe(1);
  });

  it('takes up to its share when others are loaded', () => {
    const plan = planShare({ eligible: [1, 2, 3, 4], holders: new Map([[1, 7], [2, 7]]), liveWriters: 2, myPid: ME });
    expect(plan.take).toBe(2);
    expect([...plan.candidates].sort()).toEqual([3, 4]);
  });

  it('gives up tables beyond a fair load when a writer joins', () => {
    const holders = new Map([1, 2, 3, 4].map((t) => [t, ME] as const));
    const plan = planShare({ eligible: [1, 2, 3, 4], holders, liveWriters: 2, myPid: ME });
    expect(plan.release).toHaveLength(2);
    expect(plan.take).toBe(0);
  });

  it('gives up one table when it holds two more than the least-loaded writer', () => {
    // 4 tables, 3 writers: share 2; 2-2-0 must become 2-1-1.
    const holders = new Map([[1, ME], [2, ME], [3, 7], [4, 7]]);
    const plan = planShare({ eligible: [1, 2, 3, 4], holders, liveWriters: 3, myPid: ME });
    expect(plan.release).toHaveLength(1);
  });

  it('keeps a load within one of the others', () => {
    const holders = new Map([[1, ME], [2, ME], [3, 7], [4, 8]]);
    expect(planShare({ eligible: [1, 2, 3, 4], holders, liveWriters: 3, myPid: ME }).release).toEqual([]);
  });

  it('releases tables that are no longer eligible (paused, being copied)', () => {
    const holders = new Map([[1, ME], [2, ME]]);
    const plan = planShare({ eligible: [1], holders, liveWriters: 1, myPid: ME });
    expect(plan.release).toEqual([2]);
  });

  it('picks up the tables of a writer that died (its leases are gone)', () => {
    // Two writers remain of three; the dead one's tables 5 and 6 are unowned.
    const holders = new Map([[1, ME], [2, ME], [3, 7], [4, 7]]);
    const plan = planShare({ eligible: [1, 2, 3, 4, 5, 6], holders, liveWriters: 2, myPid: ME });
    expect(plan.share).toBe(3);
    expect(plan.take).toBe(1);
    expect([...plan.candidates].sort()).toEqual([5, 6]);
  });

  it('orders candidates differently for different writers', () => {
    const eligible = Array.from({ length: 20 }, (_, i) => i + 1);
    const a = planShare({ eligible, holders: new Map(), liveWriters: 2, myPid: 1 }).candidates;
    const b = planShare({ eligible, holders: new Map(), liveWriters: 2, myPid: 2 }).candidates;
    expect(a[0]).not.toBe(b[0]);
  });
});
