import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigLog, ConfigStore } from './config-store';
import { loadSettings } from './load';

class RecordingLog implements ConfigLog {
  readonly lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  info(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, meta });
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, meta });
  }
  error(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, meta });
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe('ConfigStore', () => {
  let file: string;
  let env: NodeJS.ProcessEnv;
  let log: RecordingLog;
  let store: ConfigStore;

  const writeConfig = (yaml: string): void => {
    // Replace the file the way editors and ConfigMap updates do: write aside, then rename.
    const staging = `${file}.tmp`;
    writeFileSync(staging, yaml);
    renameSync(staging, file);
  };

  beforeEach(() => {
    file = join(mkdtempSync(join(tmpdir(), 'philotes-reload-')), 'philotes.yaml');
    writeFileSync(file, 'cdc: { batch_size: 100, buffer_size: 1000 }\nlog_level: info\n');
    env = { PHILOTES_CONFIG_FILE: file };
    log = new RecordingLog();
    store = new ConfigStore(loadSettings(env), env, log);
  });

  afterEach(() => store.close());

  it('applies a changed reloadable value and tells listeners which variables changed', () => {
    const seen: string[][] = [];
    store.onChange((_settings, changed) => seen.push([...changed]));
    writeConfig('cdc: { batch_size: 200, buffer_size: 1000 }\nlog_level: debug\n');

    const outcome = store.reload('test');

    expect(outcome).toEqual({ status: 'applied', changed: ['PHILOTES_CDC_BATCH_SIZE', 'PHILOTES_LOG_LEVEL'], needsRestart: [] });
    expect(store.settings.batchSize).toBe(200);
    expect(store.settings.logLevel).toBe('debug');
    expect(seen).toEqual([['PHILOTES_CDC_BATCH_SIZE', 'PHILOTES_LOG_LEVEL']]);
  });

  it('rejects an invalid reload, logs why, and keeps the old values', () => {
    const listener = jest.fn();
    store.onChange(listener);
    writeConfig('cdc: { batch_size: lots, buffer_size: 1000 }\nlog_level: debug\n');

    const outcome = store.reload('test');

    expect(outcome.status).toBe('rejected');
    expect(store.settings.batchSize).toBe(100);
    expect(store.settings.logLevel).toBe('info');
    expect(listener).not.toHaveBeenCalled();
    const rejection = log.lines.find((line) => line.level === 'error');
    expect(rejection?.message).toMatch(/reload rejected/);
    expect(rejection?.meta?.problems).toEqual(['PHILOTES_CDC_BATCH_SIZE="lots": must be a whole number']);
  });

  it('rejects a reload whose new value breaks a rule shared with a value that cannot reload', () => {
    writeConfig('cdc: { batch_size: 5000, buffer_size: 1000 }\n');
    const outcome = store.reload('test');
    expect(outcome.status).toBe('rejected');
    expect(store.settings.batchSize).toBe(100);
  });

  it('keeps non-reloadable values and reports that they need a restart', () => {
    writeConfig('cdc: { batch_size: 100, buffer_size: 5000, replication_slot: other_slot }\nlog_level: info\n');

    const outcome = store.reload('test');

    expect(outcome).toEqual({ status: 'unchanged', needsRestart: ['PHILOTES_CDC_REPLICATION_SLOT', 'PHILOTES_CDC_BUFFER_SIZE'] });
    expect(store.settings.replicationSlot).toBe('philotes_cdc');
    expect(store.settings.bufferSize).toBe(1000);
    expect(log.lines.some((line) => line.level === 'warn' && /need a restart/.test(line.message))).toBe(true);
  });

  it('reloads by itself when the file is replaced', async () => {
    store.watch();
    writeConfig('cdc: { batch_size: 300, buffer_size: 1000 }\n');
    await until(() => store.settings.batchSize === 300, 'the file change to be applied');
  });

  it('reloads on SIGHUP', async () => {
    store.watch();
    // Change the environment the store reads rather than the file, so the file watcher cannot be
    // what applies it.
    env.PHILOTES_CDC_BATCH_SIZE = '400';
    // jest hands tests a stand-in `process`; emitting on it reaches the handler the store installed.
    // A real SIGHUP to a running app is covered by the integration tests.
    process.emit('SIGHUP', 'SIGHUP');
    await until(() => store.settings.batchSize === 400, 'SIGHUP to reload');
  });

  it('keeps serving other listeners when one throws', () => {
    const good = jest.fn();
    store.onChange(() => {
      throw new Error('boom');
    });
    store.onChange(good);
    writeConfig('cdc: { batch_size: 150, buffer_size: 1000 }\n');
    store.reload('test');
    expect(good).toHaveBeenCalledTimes(1);
  });
});
