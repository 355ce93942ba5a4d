import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './eventually';

export type AppName = 'wal-reader' | 'iceberg-writer' | 'dlq-admin';

const ROOT = join(__dirname, '..', '..');

export function appEntry(app: AppName): string {
  const entry = join(ROOT, 'dist', 'apps', app, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing; run "npm run build" first (npm test does)`);
  return entry;
}

/**
 * A built app running as its own process, as in production. Its output is kept (JSON log lines
 * parsed) so tests can wait for what it says.
 */
export class AppProcess {
  readonly output: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly app: AppName,
    private readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer): void => {
      this.output.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** `netns`: run it in that network namespace (`ip netns exec`), as a host of its own. */
  static start(app: AppName, env: Record<string, string>, args: string[] = [], options: { netns?: string } = {}): AppProcess {
    const command = [process.execPath, appEntry(app), ...args];
    if (options.netns) command.unshift('ip', 'netns', 'exec', options.netns);
    const child = spawn(command[0], command.slice(1), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PHILOTES_LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(app, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Log lines that parsed as JSON. */
  get logs(): Array<Record<string, unknown>> {
    return this.output.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  waitForLog(what: string, match: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return eventually(`${this.app} to log ${what}`, () => this.logs.find(match), { timeoutMs });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  /** SIGTERM and wait; SIGKILL if it does not exit in time. For test clean-up. */
  async stop(timeoutMs = 35_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

export async function httpGet(url: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  return { status: response.status, body, json: <T>() => JSON.parse(body) as T };
}

/** Waits until `url` answers with `status`. */
export function eventuallyStatus(url: string, status: number, timeoutMs = 30_000): Promise<HttpAnswer> {
  return eventually(`${url} to answer ${status}`, async () => {
    const answer = await httpGet(url);
    return answer.status === status ? answer : undefined;
  }, { timeoutMs });
}
