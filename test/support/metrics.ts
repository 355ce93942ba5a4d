import { httpGet } from './app-process';

/**
 * The value of a metric as a process exports it now, in the series whose labels include `labels`
 * (every series carries more, such as `app`); undefined when no such series is exported.
 */
export async function metricValue(base: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { body } = await httpGet(`${base}/metrics`);
  for (const line of body.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map([...(match[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}
