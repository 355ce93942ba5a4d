import { FaultKind } from '../../tools/chaos/plan';
import { runChaos } from '../../tools/chaos/run';

/**
 * The short, seeded chaos run (the full one is `npm run chaos`): every fault kind while a workload
 * runs — SIGKILLs of each app, crash-restarts of both databases, terminated connections, a poison
 * event — then verify: nothing lost, nothing duplicated, the poison event in the dead letters.
 */
describe('chaos, short seeded run', () => {
  it('recovers from every fault and verify finds every table equal', async () => {
    const counts: Record<FaultKind, number> = {
      'kill wal-reader': 2,
      'kill iceberg-writer': 2,
      'kill dlq-admin': 2,
      'restart source': 1,
      'restart buffer': 1,
      'terminate replication': 1,
      'terminate writer connections': 1,
      'pause a table under load': 1,
      'fill the buffer disk': 1,
      'cut a writer off the network': 1,
    };
    const lines: string[] = [];
    const summary = await runChaos({ seed: 20261121, durationMs: 40_000, counts, log: (line) => lines.push(line) });
    if (!summary.passed) throw new Error(`${summary.report}\n\n${lines.join('\n')}`);
    expect(summary.faults).toHaveLength(13);
    expect(summary.faults.every((f) => f.recoveryMs !== undefined)).toBe(true);
    expect(summary.verdicts.map((v) => v.table)).toEqual(['public.clicks', 'public.items', 'public.prices']);
    expect(summary.report).toMatch(/PASSED/);
  });
});
