import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { runHelm } from '../../tools/chart/helm';
import { AppName } from './app-process';

/** The Helm chart under test and its CI value sets, rendered by the real helm binary. */
export const ROOT = join(__dirname, '..', '..');
export const CHART = join(ROOT, 'helm', 'philotes');
export const RELEASE = 'rel';
export const NAMESPACE = 'data';

/** The apps the chart deploys, by the component label of their Deployments. */
export const DEPLOYED_APPS: readonly AppName[] = ['wal-reader', 'iceberg-writer', 'dlq-admin'];

/**
 * The routes of libs/health and libs/metrics. (Nest's route metadata cannot be read here: Nest is
 * ES modules, jest runs CommonJS.) helm-chart-run.int-spec.ts proves them: every app answers them,
 * as rendered.
 */
export const LIVE_PATH = '/health/live';
export const READY_PATH = '/health/ready';
export const METRICS_PATH = '/metrics';

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  readonly spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- Kubernetes objects of every kind
  readonly data?: Record<string, string>;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface Container {
  readonly name: string;
  readonly command: string[];
  readonly ports?: Array<{ name: string; containerPort: number }>;
  readonly env?: EnvVar[];
  readonly envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  readonly resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readonly securityContext?: Record<string, unknown>;
  readonly startupProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
}

export interface Probe {
  readonly httpGet: { path: string; port: number | string };
  readonly [timing: string]: unknown;
}

/** `helm template` of the chart with the given values files and extra arguments, parsed. */
export function render(valuesFiles: readonly string[], extraArgs: readonly string[] = []): Manifest[] {
  const args = ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...valuesFiles.flatMap((file) => ['-f', file]), ...extraArgs];
  return parseAllDocuments(runHelm(args))
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** What the chart's values become for a value set: values.yaml deep-merged with the set (lists replace). */
export function mergedValues(valuesFile: string): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- values.yaml is free-form
  const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const overrides = parse(readFileSync(valuesFile, 'utf8')) as Record<string, unknown>;
  return deepMerge(defaults, overrides);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function ofKind(manifests: readonly Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

export function named(manifests: readonly Manifest[], kind: string, name: string): Manifest | undefined {
  return manifests.find((m) => m.kind === kind && m.metadata.name === name);
}

export function podSpecOf(workload: Manifest): any { // eslint-disable-line @typescript-eslint/no-explicit-any -- a pod spec
  return workload.spec.template.spec;
}

export function containersOf(workload: Manifest): Container[] {
  return podSpecOf(workload).containers as Container[];
}

/** The number a probe's port names: a number as is, a name through the container's ports. */
export function probePort(container: Container, probe: Probe): number {
  const { port } = probe.httpGet;
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`container ${container.name}: probe port "${port}" names no container port`);
  return named.containerPort;
}

/** Every variable name a container receives: its env entries and the keys of the ConfigMaps it loads. */
export function envNames(container: Container, manifests: readonly Manifest[]): string[] {
  const fromMaps = (container.envFrom ?? []).flatMap((source) => {
    if (!source.configMapRef) throw new Error(`container ${container.name}: envFrom other than a ConfigMap`);
    const map = named(manifests, 'ConfigMap', source.configMapRef.name);
    if (!map) throw new Error(`container ${container.name}: loads ConfigMap ${source.configMapRef.name}, which the chart does not render`);
    return Object.keys(map.data ?? {});
  });
  return [...fromMaps, ...(container.env ?? []).map((e) => e.name)];
}

/**
 * The environment a container would see: ConfigMaps and the chart's Secrets resolved from the
 * rendered manifests, the pod name for fieldRefs, and `standIn(variable)` for keys of Secrets the
 * chart does not render (the user's own, which `existingSecrets` must name).
 */
export function resolveEnv(
  container: Container,
  manifests: readonly Manifest[],
  existingSecrets: ReadonlySet<string>,
  standIn: (variable: string) => string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    Object.assign(env, named(manifests, 'ConfigMap', source.configMapRef?.name ?? '')?.data ?? {});
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value;
      continue;
    }
    const from = variable.valueFrom ?? {};
    if (from.fieldRef) {
      if (from.fieldRef.fieldPath !== 'metadata.name') throw new Error(`${variable.name}: fieldRef ${from.fieldRef.fieldPath}`);
      env[variable.name] = 'philotes-pod-0';
    } else if (from.configMapKeyRef) {
      const value = named(manifests, 'ConfigMap', from.configMapKeyRef.name)?.data?.[from.configMapKeyRef.key];
      if (value === undefined) throw new Error(`${variable.name}: ConfigMap ${from.configMapKeyRef.name} has no key ${from.configMapKeyRef.key}`);
      env[variable.name] = value;
    } else if (from.secretKeyRef) {
      const { name, key } = from.secretKeyRef;
      const secret = named(manifests, 'Secret', name);
      if (secret) {
        const encoded = secret.data?.[key];
        if (encoded === undefined) throw new Error(`${variable.name}: Secret ${name} has no key ${key}`);
        env[variable.name] = Buffer.from(encoded, 'base64').toString('utf8');
      } else {
        if (!existingSecrets.has(name)) throw new Error(`${variable.name}: Secret ${name} is neither rendered by the chart nor named in the values as an existing Secret`);
        env[variable.name] = standIn(variable.name);
      }
    } else {
      throw new Error(`${variable.name}: neither a value nor a reference the test knows`);
    }
  }
  return env;
}

/** The app a Deployment runs, from its component label. */
export function appOf(deployment: Manifest): AppName {
  const component = deployment.metadata.labels?.['app.kubernetes.io/component'];
  if (!DEPLOYED_APPS.includes(component as AppName)) throw new Error(`Deployment ${deployment.metadata.name} has component ${component}`);
  return component as AppName;
}

/** Secrets the values name as the user's own: the only Secrets a pod may use that the chart does not render. */
export function existingSecretNames(values: Record<string, any>): Set<string> { // eslint-disable-line @typescript-eslint/no-explicit-any -- values are free-form
  const names = [
    values.buffer?.existingSecret?.name,
    values.warehouse?.s3?.existingSecret?.name,
    values.dlqAdmin?.auth?.existingSecret?.name,
    ...(values.sources ?? []).map((s: { existingSecret?: { name?: string } }) => s.existingSecret?.name),
  ];
  return new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''));
}

/** A value of the right shape for a variable whose Secret is the user's (its content is not the chart's business). */
export function standIn(variable: string): string {
  if (variable === 'PHILOTES_DATABASE_URL') return 'postgres://philotes:existing@buffer.example:5432/philotes';
  if (variable === 'PHILOTES_CDC_SOURCE_URL') return 'postgres://replicator:existing@source.example:5432/app';
  if (variable === 'PHILOTES_ADMIN_TOKEN') return 'a-token-from-an-existing-secret';
  return 'from-an-existing-secret';
}

/** Runs a container's command as the image would (cwd = the image's WORKDIR, here the repository). */
export function runCommand(container: Container, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const [program, ...args] = container.command;
  if (program !== 'node') throw new Error(`container ${container.name}: command ${container.command.join(' ')} does not start with node`);
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}
