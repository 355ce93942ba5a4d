/**
 * Who used the CPU during a benchmark phase, from /proc (Linux): each app, the PostgreSQL server
 * (postmaster, live backends and the backends it has already reaped), this benchmark process, and
 * everything else on the machine. The process-level profile that says which stage a rate is bound by.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Kernel clock ticks per second (`getconf CLK_TCK`): 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

export interface ProcessTimes {
  readonly ppid: number;
  /** utime + stime, seconds. */
  readonly ownSeconds: number;
  /** cutime + cstime: children already waited for, seconds. */
  readonly reapedChildrenSeconds: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(text: string): ProcessTimes {
  const fields = text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/);
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const tick = (i: number) => Number(fields[i]) / TICKS_PER_SECOND;
  return { ppid: Number(fields[1]), ownSeconds: tick(11) + tick(12), reapedChildrenSeconds: tick(13) + tick(14) };
}

/** Busy and total seconds of all CPUs since boot, from the first line of /proc/stat. */
export function parseCpuLine(line: string): { busySeconds: number; totalSeconds: number } {
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
  const idle = ticks[3] + ticks[4];
  return { busySeconds: (total - idle) / TICKS_PER_SECOND, totalSeconds: total / TICKS_PER_SECOND };
}

function times(pid: number): ProcessTimes | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The PID of the postmaster listening on `port` (its command line holds `-p <port>`). */
export function postmasterPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args[0]?.endsWith('/postgres') && args.some((arg, i) => arg === '-p' && args[i + 1] === String(port))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** CPU seconds of the server: the postmaster, its live children, and the children it reaped. */
function serverSeconds(postmaster: number): number {
  const own = times(postmaster);
  if (!own) return 0;
  let total = own.ownSeconds + own.reapedChildrenSeconds;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = times(Number(entry));
    if (child?.ppid === postmaster) total += child.ownSeconds;
  }
  return total;
}

export interface CpuSnapshot {
  readonly atMs: number;
  readonly machineBusySeconds: number;
  readonly byComponent: Readonly<Record<string, number>>;
}

/** CPU seconds used so far by each named process, the server and this process, and by the whole machine. */
export function cpuSnapshot(apps: Readonly<Record<string, number>>, postmaster: number | undefined): CpuSnapshot {
  const byComponent: Record<string, number> = {};
  for (const [name, pid] of Object.entries(apps)) byComponent[name] = times(pid)?.ownSeconds ?? 0;
  byComponent.postgres = postmaster === undefined ? 0 : serverSeconds(postmaster);
  const self = process.cpuUsage();
  byComponent.benchmark = (self.user + self.system) / 1e6;
  const machine = parseCpuLine(readFileSync('/proc/stat', 'utf8').split('\n')[0]);
  return { atMs: Date.now(), machineBusySeconds: machine.busySeconds, byComponent };
}

export interface CpuShare {
  readonly wallSeconds: number;
  readonly cores: number;
  /** Share of all cores' time over the interval, per component, plus "other processes" and "idle". */
  readonly shares: ReadonlyArray<{ readonly component: string; readonly share: number }>;
}

/** What each component used between two snapshots, as a share of all cores' time. */
export function cpuShares(before: CpuSnapshot, after: CpuSnapshot, cores = cpus().length): CpuShare {
  const wallSeconds = (after.atMs - before.atMs) / 1000;
  const capacity = wallSeconds * cores;
  const shares = Object.keys(after.byComponent).map((component) => ({
    component,
    share: (after.byComponent[component] - (before.byComponent[component] ?? 0)) / capacity,
  }));
  const ours = shares.reduce((sum, s) => sum + s.share, 0);
  const busy = (after.machineBusySeconds - before.machineBusySeconds) / capacity;
  return {
    wallSeconds,
    cores,
    shares: [...shares, { component: 'other processes', share: Math.max(0, busy - ours) }, { component: 'idle', share: Math.max(0, 1 - busy) }],
  };
}
