/**
 * `npm run chaos -- [--seed N] [--duration 150s] [--kills 20]`: the full fault-injection run —
 * `--kills` SIGKILLs of each app, restarts of the source and buffer PostgreSQL, terminated
 * replication and writer connections, a poison event — then `verify`. Prints the summary table;
 * exit code 0 when nothing was lost or duplicated and every fault was recovered from.
 */
import { parseDuration } from '@philotes/config';
import { FaultKind } from './plan';
import { runChaos } from './run';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

async function main(): Promise<number> {
  const seed = Number(option('seed', String(Date.now() % 100_000)));
  const durationMs = parseDuration(option('duration', '150s'));
  const kills = Number(option('kills', '20'));
  if (!Number.isSafeInteger(seed) || durationMs === undefined || !Number.isSafeInteger(kills) || kills < 1) {
    console.error('usage: npm run chaos -- [--seed N] [--duration 150s] [--kills 20]');
    return 2;
  }
  const counts: Record<FaultKind, number> = {
    'kill wal-reader': kills,
    'kill iceberg-writer': kills,
    'kill dlq-admin': kills,
    'restart source': 3,
    'restart buffer': 3,
    'terminate replication': 3,
    'terminate writer connections': 3,
    'pause a table under load': 3,
    'fill the buffer disk': 2,
    'cut a writer off the network': 2,
  };
  console.log(`chaos: seed ${seed} (replay the same run with --seed ${seed})`);
  const summary = await runChaos({ seed, durationMs, counts, log: (line) => console.log(line) });
  console.log(`\n${summary.report}`);
  return summary.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`chaos failed to run: ${(error as Error).stack ?? String(error)}`);
    process.exit(3);
  },
);
