import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadSettings, parseListenAddress, SETTING_DEFINITIONS } from '@philotes/config';

import { AppName, AppProcess } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases } from '../support/capture';
import { eventually } from '../support/eventually';
import { ACCEPTED_VARIABLES } from '../support/variables';
import { testPort } from '../support/ports';

/**
 * The image and the compose stack, checked without a container engine (none on this machine or in
 * CI). Real: deployments/Dockerfile and docker-compose.yml as files, the settings class, the built
 * bundles in dist/, and the HEALTHCHECK commands run against the built apps as processes, as the
 * engine would run them inside a container. Not covered: an actual `docker build`.
 */

const ROOT = join(__dirname, '..', '..');
const APPS: readonly AppName[] = ['wal-reader', 'iceberg-writer', 'dlq-admin'];

/** The setting holding each app's listen address, as each app's main.ts hands it to runPhilotesApp. */
const LISTEN_SETTING: Record<AppName, string> = {
  'wal-reader': 'PHILOTES_HEALTH_LISTEN_ADDR',
  'iceberg-writer': 'PHILOTES_HEALTH_LISTEN_ADDR',
  'dlq-admin': 'PHILOTES_ADMIN_LISTEN_ADDR',
};

function defaultPort(app: AppName): number {
  const definition = SETTING_DEFINITIONS.find((d) => d.env === LISTEN_SETTING[app])!;
  return parseListenAddress(definition.default!)!.port;
}

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: Instruction[];
}

/** The stages of a Dockerfile: line continuations joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line)!;
    if (keyword.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** The instructions a stage sees: its base stages' first (images from a registry contribute none). */
function effective(stages: readonly Stage[], name: string): Instruction[] {
  const stage = stages.find((s) => s.name === name);
  if (!stage) return [];
  return [...effective(stages, stage.from), ...stage.instructions];
}

function last(instructions: readonly Instruction[], keyword: string): Instruction | undefined {
  return instructions.filter((i) => i.keyword === keyword).at(-1);
}

/** The exec-form array of CMD or HEALTHCHECK ... CMD. */
function execForm(instruction: Instruction): string[] {
  return JSON.parse(instruction.args.slice(instruction.args.indexOf('['))) as string[];
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'deployments', 'Dockerfile'), 'utf8'));
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** Runs a command with the environment a container would give it; resolves with its exit code. */
function run(command: readonly string[], env: Record<string, string>): Promise<number | null> {
  const [program, ...args] = command;
  const child = spawn(program === 'node' ? process.execPath : program, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('container image (deployments/Dockerfile)', () => {
  it('builds the three apps in one build stage, from sources that the build context holds', () => {
    const build = dockerfile[0];
    const buildRun = build.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('nest build'))!;
    for (const app of APPS) expect(buildRun.args).toMatch(new RegExp(`nest build[^&]*\\b${app}\\b`));
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    for (const copy of dockerfile.flatMap((s) => s.instructions).filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
        expect({ source, ignored: ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)) }).toEqual({ source, ignored: false });
      }
    }
  });

  it('has one target per app that runs it, exposes its default port, and a default target for all three', () => {
    for (const app of APPS) {
      const instructions = effective(dockerfile, app);
      expect(execForm(last(instructions, 'CMD')!)).toEqual(['node', `dist/apps/${app}/main.js`]);
      expect(existsSync(join(ROOT, 'dist', 'apps', app, 'main.js'))).toBe(true);
      expect(last(instructions, 'EXPOSE')?.args).toBe(String(defaultPort(app)));
      // The app's environment carries no variable its configuration does not know.
      const envNames = instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args.split('=')[0]);
      expect(envNames.filter((n) => !ACCEPTED_VARIABLES.has(n) || n === 'PHILOTES_APP')).toEqual([]);
    }
    const byDefault = dockerfile.at(-1)!;
    expect(byDefault.name).toBe('philotes');
    expect(execForm(last(effective(dockerfile, byDefault.name), 'CMD')!).slice(0, 2)).toEqual(['node', '-e']);
  });

  it('ships the philotes command: built with the apps, on the PATH of every target, and it runs', async () => {
    const buildRun = dockerfile[0].instructions.find((i) => i.keyword === 'RUN' && i.args.includes('nest build'))!;
    expect(buildRun.args).toMatch(/nest build[^&]*\bphilotes\b/);
    for (const target of [...APPS, 'philotes']) {
      const wrapper = effective(dockerfile, target).find((i) => i.keyword === 'RUN' && i.args.includes('/usr/local/bin/philotes'));
      expect(wrapper?.args).toMatch(/exec node \/app\/dist\/apps\/philotes\/main\.js "\$@"/);
    }
    // The wrapper as the image writes it, pointed at this checkout's /app (the repository root).
    const script = mkdtempSync(join(tmpdir(), 'philotes-cli-'));
    const printf = /printf '([^']+)'/.exec(effective(dockerfile, 'philotes').find((i) => i.args.includes('/usr/local/bin/philotes'))!.args)![1];
    execFileSync('sh', ['-c', `printf '${printf.replace('/app/', `${ROOT}/`)}' > ${script}/philotes && chmod 0755 ${script}/philotes`]);
    const help = execFileSync(join(script, 'philotes'), ['--help'], { encoding: 'utf8' });
    for (const command of ['verify', 'migrate', 'config-reference']) expect(help).toContain(command);
    const refused = await new Promise<number | null>((resolve) => spawn(join(script, 'philotes'), ['verify', '--timeout', 'soon'], { stdio: 'ignore' }).on('exit', resolve));
    expect(refused).toBe(3);
  });

  it('runs as a numeric non-root user, with NODE_ENV=production', () => {
    for (const target of [...APPS, 'philotes']) {
      const instructions = effective(dockerfile, target);
      const [user, group] = last(instructions, 'USER')!.args.split(':');
      expect(Number(user)).toBeGreaterThan(0);
      expect(Number(group)).toBeGreaterThan(0);
      expect(instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args)).toContain('NODE_ENV=production');
    }
  });

  it('ships production dependencies only, and those are all the bundles need', () => {
    const build = dockerfile[0];
    const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.at(-1)).toMatch(/npm prune --omit=dev/);
    const runtime = dockerfile.find((s) => s.name === 'runtime')!;
    expect(runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('node_modules')).map((i) => i.args)).toEqual([`--from=${build.name} /app/node_modules ./node_modules`]);
    const builtins = new Set(builtinModules);
    for (const app of [...APPS, 'philotes']) {
      const bundle = readFileSync(join(ROOT, 'dist', 'apps', app, 'main.js'), 'utf8');
      const required = [...new Set([...bundle.matchAll(/require\("([^"./][^"]*)"\)/g)].map(([, name]) => name))];
      const packages = required
        .filter((name) => !name.startsWith('node:') && !builtins.has(name))
        .map((name) => (name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]));
      expect({ app, missing: packages.filter((name) => !(name in packageJson.dependencies)) }).toEqual({ app, missing: [] });
    }
  });

  /**
   * Each target's HEALTHCHECK, run as the engine runs it: in the container's environment, next to
   * the app it checks. The default target's check reads PID 1's command line; here the app is not
   * PID 1, so the check reads the app's own /proc entry instead.
   */
  describe('HEALTHCHECK', () => {
    let dbs: CaptureDatabases;
    const running = new Map<AppName, { child: AppProcess; env: Record<string, string> }>();

    beforeAll(async () => {
      dbs = await createCaptureDatabases();
      for (const app of APPS) {
        const env: Record<string, string> = {
          NODE_ENV: 'production',
          PHILOTES_DATABASE_URL: dbs.buffer.url,
          PHILOTES_CDC_SOURCE_URL: dbs.source.url,
          PHILOTES_CDC_REPLICATION_SLOT: dbs.slot,
          PHILOTES_CDC_PUBLICATION: dbs.publication,
          PHILOTES_ICEBERG_WAREHOUSE: mkdtempSync(join(tmpdir(), 'philotes-image-warehouse-')),
          PHILOTES_ADMIN_TOKEN: 'a-token-for-the-image-test',
          [LISTEN_SETTING[app]]: `:${await testPort()}`,
        };
        running.set(app, { child: AppProcess.start(app, env), env });
      }
    });

    afterAll(async () => {
      await Promise.all([...running.values()].map(({ child }) => child.stop()));
      await dbs.drop();
    });

    it('passes for each running app on the port it listens on, and fails once it is gone', async () => {
      // Wait for the apps with a plain request (cheap), then run each check once.
      await Promise.all(
        APPS.map((app) => {
          const port = parseListenAddress(running.get(app)!.env[LISTEN_SETTING[app]])!.port;
          return eventually(`${app} to serve /health/live`, async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.ok, { timeoutMs: 60_000 });
        }),
      );
      const generic = execForm(last(effective(dockerfile, 'philotes'), 'HEALTHCHECK')!);
      expect(generic.join(' ')).toContain('/proc/1/cmdline');
      await Promise.all(
        APPS.map(async (app) => {
          const { child, env } = running.get(app)!;
          const check = execForm(last(effective(dockerfile, app), 'HEALTHCHECK')!);
          expect(check).toEqual(['env', `PHILOTES_APP=${app}`, 'node', 'deployments/healthcheck.js']);
          expect({ app, exit: await run(check, env) }).toEqual({ app, exit: 0 });
          const asPid1 = generic.map((part) => part.replace('/proc/1/cmdline', `/proc/${child.pid}/cmdline`));
          expect({ app, generic: await run(asPid1, env) }).toEqual({ app, generic: 0 });
        }),
      );
      const { child, env } = running.get('dlq-admin')!;
      await child.stop();
      expect(await run(execForm(last(effective(dockerfile, 'dlq-admin'), 'HEALTHCHECK')!), env)).toBe(1);
    });

    it('asks /health/live', () => {
      expect(readFileSync(join(ROOT, 'deployments', 'healthcheck.js'), 'utf8')).toContain('/health/live');
    });
  });
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

/** Compose's `${NAME:-default}` with nothing set in the shell, as `docker compose up` sees it. */
function interpolate(value: unknown): string {
  return String(value).replace(/\$\{([A-Z0-9_]+):-([^}]*)\}/g, (_, _name: string, fallback: string) => fallback);
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = compose.services;
  const envOf = (name: string): Record<string, string> =>
    Object.fromEntries(Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, interpolate(v)]));

  it.each([
    ['buffer', '5432', 'philotes', 'philotes'],
    ['source', '5433', 'source', 'source'],
  ])('runs the %s PostgreSQL with wal_level=logical on host port %s as %s/%s', (name, port, user, password) => {
    const service = services[name];
    expect(service.image).toMatch(/^postgres:/);
    expect(service.command?.join(' ')).toContain('wal_level=logical');
    expect(service.ports).toContain(`${port}:5432`);
    expect(service.environment).toEqual(expect.objectContaining({ POSTGRES_USER: user, POSTGRES_PASSWORD: password }));
    expect(service.healthcheck?.test.join(' ')).toContain('pg_isready');
  });

  it('runs MinIO and creates the bucket the writer writes to before the writer starts', () => {
    const minio = services.minio;
    expect(minio.image).toMatch(/^minio\/minio:RELEASE\./);
    expect(minio.healthcheck).toBeDefined();
    const writer = envOf('iceberg-writer');
    const bucket = /^s3:\/\/([^/]+)/.exec(writer.PHILOTES_ICEBERG_WAREHOUSE)![1];
    const init = Object.entries(services).find(([, s]) => s.command?.join(' ').includes('mc mb'))!;
    expect(init[1].command!.join(' ')).toMatch(new RegExp(`mc mb --ignore-existing \\S+/${bucket}\\b`));
    expect(init[1].depends_on?.minio.condition).toBe('service_healthy');
    expect(services['iceberg-writer'].depends_on?.[init[0]].condition).toBe('service_completed_successfully');
    expect(new URL(writer.PHILOTES_ICEBERG_S3_ENDPOINT).host).toBe('minio:9000');
    expect([writer.PHILOTES_ICEBERG_S3_ACCESS_KEY_ID, writer.PHILOTES_ICEBERG_S3_SECRET_ACCESS_KEY]).toEqual([
      minio.environment!.MINIO_ROOT_USER,
      minio.environment!.MINIO_ROOT_PASSWORD,
    ]);
    expect(init[1].command!.join(' ')).toContain(`http://minio:9000 ${minio.environment!.MINIO_ROOT_USER} ${minio.environment!.MINIO_ROOT_PASSWORD}`);
  });

  it.each(APPS)('runs %s from its image target with a healthcheck, waiting for healthy dependencies', (app) => {
    const service = services[app];
    expect(service.build).toEqual({ context: '.', dockerfile: 'deployments/Dockerfile', target: app });
    expect(dockerfile.map((s) => s.name)).toContain(app);
    expect(service.healthcheck?.test).toEqual(['CMD', ...execForm(last(effective(dockerfile, app), 'HEALTHCHECK')!)]);
    const dependencies = Object.entries(service.depends_on ?? {});
    expect(dependencies.map(([name]) => name)).toContain('buffer');
    for (const [name, { condition }] of dependencies) {
      expect(['service_healthy', 'service_completed_successfully']).toContain(condition);
      if (condition === 'service_healthy') expect(services[name].healthcheck).toBeDefined();
    }
    // The port published is the one the app listens on.
    const listen = envOf(app)[LISTEN_SETTING[app]];
    const containerPort = listen ? parseListenAddress(listen)!.port : defaultPort(app);
    expect(service.ports?.map((p) => p.split(':')[1])).toEqual([String(containerPort)]);
  });

  it.each(APPS)('gives %s only variables it accepts, valid, pointing at the compose services', (app) => {
    const env = envOf(app);
    expect(Object.keys(env).filter((n) => !ACCEPTED_VARIABLES.has(n))).toEqual([]);
    const { settings, warnings } = loadSettings({ ...env, NODE_ENV: 'production' });
    expect(warnings).toEqual([]);
    const buffer = new URL(settings.databaseUrl);
    expect([buffer.host, buffer.username, buffer.password, buffer.pathname]).toEqual(['buffer:5432', 'philotes', 'philotes', '/philotes']);
    if (app === 'wal-reader') {
      expect([settings.sourceHost, settings.sourcePort, settings.sourceUser, settings.sourcePassword, settings.sourceDatabase]).toEqual(['source', 5432, 'source', 'source', 'source']);
    }
    if (app === 'dlq-admin') expect(settings.adminToken).toMatch(/^[\x21-\x7e]{16,}$/);
  });
});
