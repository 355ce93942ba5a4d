/**
 * `npm run generative -- [--seeds 200] [--seed N]`: the long generative run — N seeded scenarios
 * (see test/integration/generative.int-spec.ts), each checked table by table against its source.
 * Prints every failing seed with the command that replays it; exit code 0 when all agree.
 * `--postgres-bin DIR` runs them on another server (e.g. /usr/lib/postgresql/15/bin).
 */
import { spawnSync } from 'node:child_process';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

const seeds = option('seeds', '200');
const seed = option('seed', String(Date.now() % 1_000_000));
const bin = option('postgres-bin', '');
if (!/^\d+$/.test(seeds) || !/^\d+$/.test(seed)) {
  console.error('usage: npm run generative -- [--seeds 200] [--seed N] [--postgres-bin DIR]');
  process.exit(2);
}
console.log(`generative: ${seeds} seeds from ${seed} (replay one with PHILOTES_GENERATIVE_SEED=<seed> PHILOTES_GENERATIVE_SEEDS=1 npx jest --selectProjects integration --testPathPatterns generative)`);
const result = spawnSync('npx', ['jest', '--selectProjects', 'integration', '--testPathPatterns', 'generative'], {
  stdio: 'inherit',
  env: { ...process.env, PHILOTES_GENERATIVE_SEEDS: seeds, PHILOTES_GENERATIVE_SEED: seed, ...(bin ? { PHILOTES_TEST_POSTGRES_BIN: bin } : {}) },
});
process.exit(result.status ?? 1);
