import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { EmbeddedPostgres } from '@philotes/embedded-pg';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function machineDescription(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

/**
 * Replaces one benchmark's section of docs/benchmarks.md (between its markers), keeping the others,
 * so each `npm run bench:*` records its last result without erasing the rest.
 */
export function replaceSection(file: string, name: string, heading: string, body: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${start}\n${heading}\n\n${body}\n${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nThe last result of each benchmark, written by the benchmark itself.\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? `${text.slice(0, from)}${section}${text.slice(to + end.length)}` : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
}

/** Peak resident set size (VmHWM) of a live process, in kB; 0 once it is gone. */
export function peakRssKb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export async function serverVersion(server: EmbeddedPostgres): Promise<string> {
  return server.withClient(async (client) => (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version);
}
