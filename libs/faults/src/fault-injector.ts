/**
 * Crash points for fault-injection tests: `PHILOTES_FAULTS=reader.after-commit:3` makes the process
 * kill itself (SIGKILL, no clean-up, exactly like `kill -9`) the 3rd time it passes that point.
 * Several points separate with commas. Unset in production, where `hit` is a map lookup that misses.
 */
export class FaultInjector {
  private readonly targets = new Map<string, number>();
  private readonly counts = new Map<string, number>();

  constructor(
    spec: string | undefined,
    private readonly crash: (point: string) => void = (point) => {
      process.stderr.write(`fault injection: crashing at ${point}\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  ) {
    for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const [point, nth] = part.split(':');
      const count = nth === undefined ? 1 : Number(nth);
      if (!point || !Number.isInteger(count) || count < 1) throw new Error(`fault spec "${part}" must be point[:n] with n ≥ 1`);
      this.targets.set(point, count);
    }
  }

  hit(point: string): void {
    const target = this.targets.get(point);
    if (target === undefined) return;
    const count = (this.counts.get(point) ?? 0) + 1;
    this.counts.set(point, count);
    if (count === target) this.crash(point);
  }
}

export const NO_FAULTS = new FaultInjector(undefined);
