import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MetricName } from '@philotes/metrics';
import { AppProcess } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases } from '../support/capture';
import { appOf, CHART, containersOf, METRICS_PATH, ofKind, probePort, render, resolveEnv, runCommand, standIn } from '../support/chart';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { testPort } from '../support/ports';

/**
 * The Helm chart's manifests, run. Real: helm renders ci/local-warehouse-values.yaml; the migration
 * Job's command and environment run, then each Deployment's, with the built apps standing in for
 * the image and databases of the test PostgreSQL server for the cluster's. Ports, URLs and the
 * warehouse path are set through the chart's own values, so the rendered environment points here.
 */
describe('helm chart, run as rendered', () => {
  let dbs: CaptureDatabases;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await dbs.drop();
  });

  it('migrates with the hook Job, then every app starts and its probes pass on the probe port', async () => {
    const [readerPort, writerPort, adminPort] = [await testPort(), await testPort(), await testPort()];
    const manifests = render([join(CHART, 'ci', 'local-warehouse-values.yaml')], [
      '--set', 'migrations.enabled=true',
      '--set', `buffer.url=${dbs.buffer.url}`,
      '--set', `sources[0].url=${dbs.source.url}`,
      '--set', `sources[0].config.PHILOTES_CDC_REPLICATION_SLOT=${dbs.slot}`,
      '--set', `sources[0].config.PHILOTES_CDC_PUBLICATION=${dbs.publication}`,
      '--set', `warehouse.location=${mkdtempSync(join(tmpdir(), 'philotes-chart-warehouse-'))}`,
      '--set', `walReader.port=${readerPort},icebergWriter.port=${writerPort},dlqAdmin.port=${adminPort}`,
    ]);
    const noExisting = new Set<string>();

    const [job] = ofKind(manifests, 'Job');
    const [migrate] = containersOf(job);
    const exit = await runCommand(migrate, resolveEnv(migrate, manifests, noExisting, standIn));
    expect(exit).toEqual({ code: 0, output: expect.stringContaining('buffer schema migrated') });
    expect((await query(dbs.buffer.url, 'SELECT count(*)::int AS n FROM philotes_migrations'))[0].n).toBeGreaterThan(0);

    const deployments = ofKind(manifests, 'Deployment');
    for (const deployment of deployments) {
      const [container] = containersOf(deployment);
      expect(container.command).toEqual(['node', `dist/apps/${appOf(deployment)}/main.js`]);
      apps.push(AppProcess.start(appOf(deployment), resolveEnv(container, manifests, noExisting, standIn)));
    }
    await Promise.all(
      deployments.map(async (deployment) => {
        const [container] = containersOf(deployment);
        for (const probe of [container.startupProbe!, container.livenessProbe!, container.readinessProbe!]) {
          const url = `http://127.0.0.1:${probePort(container, probe)}${probe.httpGet.path}`;
          await eventually(`${appOf(deployment)} ${url} to answer 200`, async () => (await fetch(url).catch(() => undefined))?.status === 200, { timeoutMs: 60_000 });
        }
        const metrics = await fetch(`http://127.0.0.1:${probePort(container, container.livenessProbe!)}${METRICS_PATH}`);
        expect(await metrics.text()).toContain(MetricName.PipelineState);
      }),
    );
  });
});
