import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeSettings, loadSettings, SETTING_DEFINITIONS } from './load';

function problemsFor(env: NodeJS.ProcessEnv): string[] {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n').slice(1).map((line) => line.trim());
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'philotes-config-')), name);
  writeFileSync(path, content);
  return path;
}

const NAMESPACE_RULE = 'levels of letters, digits, _, {source} or {schema}, separated by ".", with {schema} in it (else two schemas\' tables of one name would share an Iceberg table), at most 255 characters';

describe('loadSettings', () => {
  it('fills every setting from its documented default when nothing is set', () => {
    const { settings, sources } = loadSettings({});
    expect(settings).toMatchObject({
      sourceHost: 'localhost',
      sourcePort: 5433,
      sourceDatabase: 'source',
      sourceUser: 'source',
      sourcePassword: 'source',
      databaseUrl: 'postgres://philotes:philotes@localhost:5432/philotes',
      replicationSlot: 'philotes_cdc',
      publication: 'philotes_pub',
      checkpointIntervalMs: 10_000,
      bufferSize: 10_000,
      batchSize: 1_000,
      flushIntervalMs: 5_000,
      bufferRetentionMs: 168 * 3_600_000,
      bufferCleanupIntervalMs: 3_600_000,
      retryMaxAttempts: 3,
      retryInitialIntervalMs: 1_000,
      retryMaxIntervalMs: 30_000,
      retryMultiplier: 2,
      dlqEnabled: true,
      dlqRetentionMs: 168 * 3_600_000,
      healthEnabled: true,
      healthListenAddress: { port: 8081 },
      healthReadinessTimeoutMs: 5_000,
      backpressureEnabled: true,
      backpressureHighBytes: 256 * 1024 ** 2,
      backpressureLowBytes: 128 * 1024 ** 2,
      backpressureStoppedTableMaxBytes: 4 * 1024 ** 3,
      backpressureCheckIntervalMs: 1_000,
    });
    expect(settings.sourceUrl).toBeUndefined();
    expect(settings.tables).toEqual([]);
    expect(settings.snapshotMode).toBe('initial');
    expect(sources.get('PHILOTES_CDC_BATCH_SIZE')).toEqual({ raw: '1000', origin: 'default' });
  });

  it('reads typed values from the environment', () => {
    const { settings } = loadSettings({
      PHILOTES_CDC_BATCH_SIZE: '250',
      PHILOTES_CDC_FLUSH_INTERVAL: '500ms',
      PHILOTES_RETRY_MULTIPLIER: '1.5',
      PHILOTES_DLQ_ENABLED: 'false',
      PHILOTES_HEALTH_LISTEN_ADDR: '127.0.0.1:9000',
      PHILOTES_CDC_SOURCE_URL: 'postgres://u:p@db:5432/app',
    });
    expect(settings.batchSize).toBe(250);
    expect(settings.flushIntervalMs).toBe(500);
    expect(settings.retryMultiplier).toBe(1.5);
    expect(settings.dlqEnabled).toBe(false);
    expect(settings.healthListenAddress).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(settings.sourceUrl).toBe('postgres://u:p@db:5432/app');
  });

  it('treats an empty variable as unset', () => {
    expect(loadSettings({ PHILOTES_CDC_BATCH_SIZE: '' }).settings.batchSize).toBe(1000);
  });

  // Each invalid value, with the message the operator sees: variable, value, rule.
  const invalid: Array<[string, string, string]> = [
    ['PHILOTES_CDC_BATCH_SIZE', 'abc', 'PHILOTES_CDC_BATCH_SIZE="abc": must be a whole number'],
    ['PHILOTES_CDC_BATCH_SIZE', '0', 'PHILOTES_CDC_BATCH_SIZE="0": must be between 1 and 1000000'],
    ['PHILOTES_CDC_BATCH_SIZE', '1.5', 'PHILOTES_CDC_BATCH_SIZE="1.5": must be a whole number'],
    ['PHILOTES_CDC_SOURCE_PORT', '70000', 'PHILOTES_CDC_SOURCE_PORT="70000": must be between 1 and 65535'],
    ['PHILOTES_ICEBERG_KEY_INDEX_CACHE_KEYS', '-1', 'PHILOTES_ICEBERG_KEY_INDEX_CACHE_KEYS="-1": must be between 0 and 16000000'],
    ['PHILOTES_ICEBERG_KEY_INDEX_CACHE_KEYS', '20000000', 'PHILOTES_ICEBERG_KEY_INDEX_CACHE_KEYS="20000000": must be between 0 and 16000000'],
    ['PHILOTES_CDC_FLUSH_INTERVAL', '10', 'PHILOTES_CDC_FLUSH_INTERVAL="10": must be a duration such as 500ms, 10s, 5m, 1h or 168h'],
    ['PHILOTES_CDC_FLUSH_INTERVAL', '5 seconds', 'PHILOTES_CDC_FLUSH_INTERVAL="5 seconds": must be a duration such as 500ms, 10s, 5m, 1h or 168h'],
    ['PHILOTES_CDC_FLUSH_INTERVAL', '2h', 'PHILOTES_CDC_FLUSH_INTERVAL="2h": must be between 10ms and 1h'],
    ['PHILOTES_CDC_CHECKPOINT_INTERVAL', '1ms', 'PHILOTES_CDC_CHECKPOINT_INTERVAL="1ms": must be between 100ms and 1h'],
    ['PHILOTES_CDC_BUFFER_RETENTION', '500ms', 'PHILOTES_CDC_BUFFER_RETENTION="500ms": must be between 1s and 8760h'],
    ['PHILOTES_CDC_BUFFER_CLEANUP_INTERVAL', 'soon', 'PHILOTES_CDC_BUFFER_CLEANUP_INTERVAL="soon": must be a duration such as 500ms, 10s, 5m, 1h or 168h'],
    ['PHILOTES_CDC_REPLICATION_SLOT', 'Bad-Slot', 'PHILOTES_CDC_REPLICATION_SLOT="Bad-Slot": must be lowercase letters, digits or _, at most 63 characters (PostgreSQL slot name rules)'],
    ['PHILOTES_CDC_PUBLICATION', '1pub', 'PHILOTES_CDC_PUBLICATION="1pub": must be a PostgreSQL identifier (letters, digits, _), at most 63 characters'],
    ['PHILOTES_CDC_SOURCE_ID', 'Prod DB', 'PHILOTES_CDC_SOURCE_ID="Prod DB": must be lowercase letters, digits, _ or -, starting with a letter, at most 63 characters'],
    ['PHILOTES_DATABASE_URL', 'mysql://x', 'PHILOTES_DATABASE_URL="***": must be a postgres:// URL'],
    ['PHILOTES_CDC_SOURCE_URL', 'localhost:5432', 'PHILOTES_CDC_SOURCE_URL="***": must be a postgres:// URL'],
    ['PHILOTES_DATABASE_POOL_SIZE', '0', 'PHILOTES_DATABASE_POOL_SIZE="0": must be between 1 and 200'],
    ['PHILOTES_DATABASE_MIGRATE', 'maybe', 'PHILOTES_DATABASE_MIGRATE="maybe": must be true or false'],
    ['PHILOTES_RETRY_MAX_ATTEMPTS', '-1', 'PHILOTES_RETRY_MAX_ATTEMPTS="-1": must be between 1 and 1000'],
    ['PHILOTES_RETRY_MULTIPLIER', 'fast', 'PHILOTES_RETRY_MULTIPLIER="fast": must be a number'],
    ['PHILOTES_RETRY_MULTIPLIER', '0.5', 'PHILOTES_RETRY_MULTIPLIER="0.5": must be between 1 and 100'],
    ['PHILOTES_RETRY_JITTER', '2', 'PHILOTES_RETRY_JITTER="2": must be between 0 and 1'],
    ['PHILOTES_RETRY_INITIAL_INTERVAL', 'x', 'PHILOTES_RETRY_INITIAL_INTERVAL="x": must be a duration such as 500ms, 10s, 5m, 1h or 168h'],
    ['PHILOTES_RETRY_MAX_INTERVAL', '0ms', 'PHILOTES_RETRY_MAX_INTERVAL="0ms": must be between 1ms and 24h'],
    ['PHILOTES_DLQ_ENABLED', 'nope', 'PHILOTES_DLQ_ENABLED="nope": must be true or false'],
    ['PHILOTES_DLQ_RETENTION', '1s', 'PHILOTES_DLQ_RETENTION="1s": must be between 1m and 87600h'],
    ['PHILOTES_HEALTH_ENABLED', 'y', 'PHILOTES_HEALTH_ENABLED="y": must be true or false'],
    ['PHILOTES_HEALTH_LISTEN_ADDR', '8081', 'PHILOTES_HEALTH_LISTEN_ADDR="8081": must be an address such as :8081 or 127.0.0.1:8081'],
    ['PHILOTES_HEALTH_LISTEN_ADDR', ':99999', 'PHILOTES_HEALTH_LISTEN_ADDR=":99999": must be an address such as :8081 or 127.0.0.1:8081'],
    ['PHILOTES_CDC_TABLES', 'public.a, orders', 'PHILOTES_CDC_TABLES="public.a, orders": must list tables as schema.table, separated by commas'],
    ['PHILOTES_CDC_SNAPSHOT_MODE', 'always', 'PHILOTES_CDC_SNAPSHOT_MODE="always": must be one of initial, never'],
    ['PHILOTES_CDC_PARTITIONED_TABLES', 'partitions', 'PHILOTES_CDC_PARTITIONED_TABLES="partitions": must be one of root, leaves'],
    ['PHILOTES_CDC_LAG_WARNING_BYTES', '0', 'PHILOTES_CDC_LAG_WARNING_BYTES="0": must be between 1 and 9007199254740991'],
    ['PHILOTES_CDC_LAG_WARNING_AGE', '1ms', 'PHILOTES_CDC_LAG_WARNING_AGE="1ms": must be between 1s and 168h'],
    ['PHILOTES_ICEBERG_WAREHOUSE', 'my warehouse', 'PHILOTES_ICEBERG_WAREHOUSE="my warehouse": must be a directory or an s3:// URI'],
    ['PHILOTES_ICEBERG_CATALOG_NAME', 'a b', 'PHILOTES_ICEBERG_CATALOG_NAME="a b": must be letters, digits, ., _ or -, at most 255 characters'],
    ['PHILOTES_ICEBERG_NAMESPACE', 'my-ns.{schema}', `PHILOTES_ICEBERG_NAMESPACE="my-ns.{schema}": must be ${NAMESPACE_RULE}`],
    ['PHILOTES_ICEBERG_NAMESPACE', 'analytics', `PHILOTES_ICEBERG_NAMESPACE="analytics": must be ${NAMESPACE_RULE}`],
    ['PHILOTES_ICEBERG_NAMESPACE', '{source}..{schema}', `PHILOTES_ICEBERG_NAMESPACE="{source}..{schema}": must be ${NAMESPACE_RULE}`],
    ['PHILOTES_ICEBERG_NAMESPACE', '{table}.{schema}', `PHILOTES_ICEBERG_NAMESPACE="{table}.{schema}": must be ${NAMESPACE_RULE}`],
    ['PHILOTES_ICEBERG_MODE', 'merge', 'PHILOTES_ICEBERG_MODE="merge": must be one of auto, append, upsert'],
    ['PHILOTES_ICEBERG_TABLE_MODES', 'public.a=merge', 'PHILOTES_ICEBERG_TABLE_MODES="public.a=merge": must list schema.table=append or schema.table=upsert, separated by commas'],
    ['PHILOTES_ICEBERG_PARTITIONING', 'public.a=week(ts)', "PHILOTES_ICEBERG_PARTITIONING=\"public.a=week(ts)\": unknown transform week at character 10; write schema.table=transform(column),... with tables separated by ';' (transforms: identity, bucket(N,col), truncate(W,col), year, month, day, hour, void; quote names with \"\")"],
    ['PHILOTES_ICEBERG_COLUMN_TYPES', 'public.a=string', 'PHILOTES_ICEBERG_COLUMN_TYPES="public.a=string": must list schema.table.column=string, separated by commas'],
    ['PHILOTES_ICEBERG_UNREPRESENTABLE', 'clamp', 'PHILOTES_ICEBERG_UNREPRESENTABLE="clamp": must be one of reject, null'],
    ['PHILOTES_ICEBERG_CONVERT_EQUALITY_DELETES', 'maybe', 'PHILOTES_ICEBERG_CONVERT_EQUALITY_DELETES="maybe": must be true or false'],
    ['PHILOTES_ICEBERG_UPSERT_DELETES', 'vectors', 'PHILOTES_ICEBERG_UPSERT_DELETES="vectors": must be one of position, equality'],
    ['PHILOTES_ICEBERG_TARGET_FILE_SIZE', '64M', 'PHILOTES_ICEBERG_TARGET_FILE_SIZE="64M": must be a size such as 512KB, 64MB or 1GB'],
    ['PHILOTES_ICEBERG_WRITE_CONCURRENCY', '0', 'PHILOTES_ICEBERG_WRITE_CONCURRENCY="0": must be between 1 and 64'],
    ['PHILOTES_ICEBERG_S3_ENDPOINT', 'minio:9000', 'PHILOTES_ICEBERG_S3_ENDPOINT="minio:9000": must be an http:// or https:// URL'],
    ['PHILOTES_ICEBERG_S3_REGION', 'EU West', 'PHILOTES_ICEBERG_S3_REGION="EU West": must be a region name'],
    ['PHILOTES_ICEBERG_S3_PATH_STYLE', 'maybe', 'PHILOTES_ICEBERG_S3_PATH_STYLE="maybe": must be true or false'],
    ['PHILOTES_ICEBERG_MAINTENANCE_INTERVAL', 'often', 'PHILOTES_ICEBERG_MAINTENANCE_INTERVAL="often": must be a duration such as 500ms, 10s, 5m, 1h or 168h'],
    ['PHILOTES_ICEBERG_COMPACTION_MIN_FILES', '1', 'PHILOTES_ICEBERG_COMPACTION_MIN_FILES="1": must be between 2 and 100000'],
    ['PHILOTES_ICEBERG_COMPACTION_MAX_BYTES', 'lots', 'PHILOTES_ICEBERG_COMPACTION_MAX_BYTES="lots": must be a size such as 512KB, 64MB or 1GB'],
    ['PHILOTES_ICEBERG_SNAPSHOT_RETENTION', '10ms', 'PHILOTES_ICEBERG_SNAPSHOT_RETENTION="10ms": must be between 1s and 87600h'],
    ['PHILOTES_ICEBERG_ORPHAN_GRACE', '0s', 'PHILOTES_ICEBERG_ORPHAN_GRACE="0s": must be between 1s and 8760h'],
    ['PHILOTES_ADMIN_LISTEN_ADDR', 'localhost', 'PHILOTES_ADMIN_LISTEN_ADDR="localhost": must be an address such as :8081 or 127.0.0.1:8081'],
    ['PHILOTES_ADMIN_TOKEN', 'short', 'PHILOTES_ADMIN_TOKEN="***": must be at least 16 printable characters without spaces'],
    ['PHILOTES_ADMIN_AUTH_DISABLED', 'maybe', 'PHILOTES_ADMIN_AUTH_DISABLED="maybe": must be true or false'],
    ['PHILOTES_ADMIN_REPLAY_LIMIT', '0', 'PHILOTES_ADMIN_REPLAY_LIMIT="0": must be between 1 and 1000000'],
    ['PHILOTES_HEALTH_READINESS_TIMEOUT', '5m', 'PHILOTES_HEALTH_READINESS_TIMEOUT="5m": must be between 100ms and 1m'],
    ['PHILOTES_BACKPRESSURE_ENABLED', 'sometimes', 'PHILOTES_BACKPRESSURE_ENABLED="sometimes": must be true or false'],
    ['PHILOTES_CDC_BUFFER_PARTITION_INTERVAL', '10ms', 'PHILOTES_CDC_BUFFER_PARTITION_INTERVAL="10ms": must be between 1s and 720h'],
    ['PHILOTES_CDC_BUFFER_BYTES', '1KB', 'PHILOTES_CDC_BUFFER_BYTES="1KB": must be between 1048576 and 4294967296'],
    ['PHILOTES_CDC_MAX_EVENT_BYTES', '2GB', 'PHILOTES_CDC_MAX_EVENT_BYTES="2GB": must be between 1024 and 1073741824'],
    ['PHILOTES_ICEBERG_READ_BYTES', 'a lot', 'PHILOTES_ICEBERG_READ_BYTES="a lot": must be a size such as 512KB, 64MB or 1GB'],
    ['PHILOTES_TCP_USER_TIMEOUT', '2h', 'PHILOTES_TCP_USER_TIMEOUT="2h": must be between 0ms and 1h'],
    ['PHILOTES_BACKPRESSURE_HIGH_BYTES', '10B', 'PHILOTES_BACKPRESSURE_HIGH_BYTES="10B": must be between 1024 and 1099511627776'],
    ['PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES', 'lots', 'PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES="lots": must be a size such as 512KB, 64MB or 1GB'],
    ['PHILOTES_BACKPRESSURE_CHECK_INTERVAL', '1ms', 'PHILOTES_BACKPRESSURE_CHECK_INTERVAL="1ms": must be between 10ms and 10m'],
    ['PHILOTES_LOG_LEVEL', 'loud', 'PHILOTES_LOG_LEVEL="loud": must be one of error, warn, info, verbose, debug'],
    ['PHILOTES_LOG_FORMAT', 'xml', 'PHILOTES_LOG_FORMAT="xml": must be one of auto, json, text'],
    ['PHILOTES_INSTANCE_ID', 'a b', 'PHILOTES_INSTANCE_ID="a b": must be at most 200 characters without spaces'],
    ['PHILOTES_HEARTBEAT_INTERVAL', '1h', 'PHILOTES_HEARTBEAT_INTERVAL="1h": must be between 100ms and 5m'],
    ['PHILOTES_CDC_SOURCE_HOST', 'a host', 'PHILOTES_CDC_SOURCE_HOST="a host": must be a host name or address'],
    ['PHILOTES_CDC_SOURCE_DATABASE', 'my db', 'PHILOTES_CDC_SOURCE_DATABASE="my db": must be a database name'],
    ['PHILOTES_CDC_SOURCE_USER', 'my user', 'PHILOTES_CDC_SOURCE_USER="my user": must be a user name'],
    ['PHILOTES_CDC_BUFFER_SIZE', 'lots', 'PHILOTES_CDC_BUFFER_SIZE="lots": must be a whole number'],
    ['PHILOTES_BACKPRESSURE_LOW_BYTES', '-1', 'PHILOTES_BACKPRESSURE_LOW_BYTES="-1": must be a size such as 512KB, 64MB or 1GB'],
    ['PHILOTES_ICEBERG_PARQUET_COMPRESSION', 'zstd(23)', 'PHILOTES_ICEBERG_PARQUET_COMPRESSION="zstd(23)": must be zstd, zstd(1-22), gzip, gzip(0-9), brotli, brotli(0-11), snappy or uncompressed'],
    ['PHILOTES_ICEBERG_PARQUET_COMPRESSION', 'lzo', 'PHILOTES_ICEBERG_PARQUET_COMPRESSION="lzo": must be zstd, zstd(1-22), gzip, gzip(0-9), brotli, brotli(0-11), snappy or uncompressed'],
    ['PHILOTES_ICEBERG_PARQUET_ROW_GROUP_SIZE', '100B', 'PHILOTES_ICEBERG_PARQUET_ROW_GROUP_SIZE="100B": must be between 1024 and 2147483648'],
    ['PHILOTES_ICEBERG_PARQUET_PAGE_SIZE', 'big', 'PHILOTES_ICEBERG_PARQUET_PAGE_SIZE="big": must be a size such as 512KB, 64MB or 1GB'],
    ['PHILOTES_ICEBERG_FORMAT_VERSION', '4', 'PHILOTES_ICEBERG_FORMAT_VERSION="4": must be 2 or 3'],
    ['PHILOTES_ICEBERG_FORMAT_VERSION', '1', 'PHILOTES_ICEBERG_FORMAT_VERSION="1": must be 2 or 3'],
    [
      'PHILOTES_ICEBERG_TABLE_PROPERTIES',
      'public.t:format-version=1',
      'PHILOTES_ICEBERG_TABLE_PROPERTIES="public.t:format-version=1": must set no reserved or invalid property: format-version must be 2 or 3',
    ],
    [
      'PHILOTES_ICEBERG_TABLE_PROPERTIES',
      'public.t:uuid=x',
      'PHILOTES_ICEBERG_TABLE_PROPERTIES="public.t:uuid=x": must set no reserved or invalid property: uuid is reserved by Iceberg',
    ],
    [
      'PHILOTES_ICEBERG_TABLE_PROPERTIES',
      'public.t',
      'PHILOTES_ICEBERG_TABLE_PROPERTIES="public.t": must list schema.table:property=value,..., tables separated by ";" (expected ":" at character 9)',
    ],
    [
      'PHILOTES_ICEBERG_SORT_ORDER',
      'public.t=bucket(0,id)',
      'PHILOTES_ICEBERG_SORT_ORDER="public.t=bucket(0,id)": must write bucket(N, column) with N a positive integer (not "bucket(0,id)")',
    ],
  ];

  it.each(invalid)('rejects %s=%p', (variable, value, message) => {
    expect(problemsFor({ [variable]: value })).toContain(`- ${message}`);
  });

  it('has a rejection case for every setting with a rule', () => {
    const covered = new Set(invalid.map(([variable]) => variable));
    // Free-form settings accept any text, so there is nothing to reject.
    const freeForm = new Set(['PHILOTES_CDC_SOURCE_PASSWORD', 'PHILOTES_ICEBERG_S3_ACCESS_KEY_ID', 'PHILOTES_ICEBERG_S3_SECRET_ACCESS_KEY']);
    const uncovered = SETTING_DEFINITIONS.map((d) => d.env).filter((env) => !covered.has(env) && !freeForm.has(env));
    expect(uncovered).toEqual([]);
  });

  it('enforces the cross-field rules, naming both variables', () => {
    expect(problemsFor({ PHILOTES_BACKPRESSURE_LOW_BYTES: '300MB' })).toEqual([
      '- PHILOTES_BACKPRESSURE_LOW_BYTES="300MB": must be less than PHILOTES_BACKPRESSURE_HIGH_BYTES (256MB)',
    ]);
    expect(problemsFor({ PHILOTES_BACKPRESSURE_LOW_BYTES: '256MB' })).toHaveLength(1);
    expect(problemsFor({ PHILOTES_RETRY_INITIAL_INTERVAL: '1m' })).toEqual([
      '- PHILOTES_RETRY_INITIAL_INTERVAL="1m": must be at most PHILOTES_RETRY_MAX_INTERVAL (30s)',
    ]);
    expect(problemsFor({ PHILOTES_CDC_BUFFER_SIZE: '100', PHILOTES_CDC_BATCH_SIZE: '500' })).toEqual([
      '- PHILOTES_CDC_BUFFER_SIZE="100": must be at least PHILOTES_CDC_BATCH_SIZE (500)',
    ]);
    // A run must have room for one full-size file, or the files deletes hit would never be rewritten.
    expect(problemsFor({ PHILOTES_ICEBERG_COMPACTION_MAX_BYTES: '32MB' })).toEqual([
      '- PHILOTES_ICEBERG_COMPACTION_MAX_BYTES="32MB": must be at least PHILOTES_ICEBERG_TARGET_FILE_SIZE (64MB)',
    ]);
    expect(() => loadSettings({ PHILOTES_RETRY_INITIAL_INTERVAL: '30s' })).not.toThrow();
  });

  it('lists every bad variable at once', () => {
    const problems = problemsFor({
      PHILOTES_CDC_BATCH_SIZE: 'many',
      PHILOTES_LOG_LEVEL: 'loud',
      PHILOTES_CDC_SOURCE_PORT: '0',
    });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/BATCH_SIZE[\s\S]*SOURCE_PORT[\s\S]*LOG_LEVEL/);
  });

  it('never prints a secret value', () => {
    const message = (() => {
      try {
        loadSettings({ PHILOTES_DATABASE_URL: 'mysql://user:hunter2@host/db' });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain('PHILOTES_DATABASE_URL');
    expect(message).not.toContain('hunter2');
    const described = describeSettings(loadSettings({ PHILOTES_CDC_SOURCE_PASSWORD: 'hunter2' }));
    expect(described.PHILOTES_CDC_SOURCE_PASSWORD).toBe('***');
    expect(JSON.stringify(described)).not.toContain('hunter2');
    expect(described.PHILOTES_CDC_BATCH_SIZE).toBe('1000');
  });

  it('warns about unknown PHILOTES_ variables and suggests the likely one', () => {
    const { warnings } = loadSettings({ PHILOTES_CDC_BATCHSIZE: '5', PHILOTES_CONFIG_FILE: '', OTHER: 'x' });
    expect(warnings).toEqual(['PHILOTES_CDC_BATCHSIZE is set but is not a Philotes setting (did you mean PHILOTES_CDC_BATCH_SIZE?)']);
  });

  describe('config file', () => {
    it('reads nested YAML, flat keys and full names alike', () => {
      const file = tempFile('philotes.yaml', 'cdc:\n  batch_size: 2000\n  flush-interval: 250ms\nRETRY_MAX_ATTEMPTS: 7\nPHILOTES_LOG_LEVEL: debug\n');
      const { settings, sources } = loadSettings({ PHILOTES_CONFIG_FILE: file });
      expect(settings.batchSize).toBe(2000);
      expect(settings.flushIntervalMs).toBe(250);
      expect(settings.retryMaxAttempts).toBe(7);
      expect(settings.logLevel).toBe('debug');
      expect(sources.get('PHILOTES_CDC_BATCH_SIZE')?.origin).toBe('config file');
    });

    it('reads JSON', () => {
      const file = tempFile('philotes.json', JSON.stringify({ backpressure: { high_bytes: '100KB', low_bytes: '10KB' } }));
      const { settings } = loadSettings({ PHILOTES_CONFIG_FILE: file });
      expect([settings.backpressureHighBytes, settings.backpressureLowBytes]).toEqual([102_400, 10_240]);
    });

    it('refuses a retired setting, from the file or the environment, naming what replaced it', () => {
      const file = tempFile('philotes.json', JSON.stringify({ backpressure: { high_watermark: 300 } }));
      let error: ConfigError | undefined;
      try {
        loadSettings({ PHILOTES_CONFIG_FILE: file, PHILOTES_BACKPRESSURE_LOW_WATERMARK: '100' });
      } catch (thrown) {
        if (thrown instanceof ConfigError) error = thrown;
      }
      expect(error?.problems).toEqual([
        { variable: 'PHILOTES_BACKPRESSURE_HIGH_WATERMARK', value: '300', origin: 'config file', rule: expect.stringContaining('replaced by PHILOTES_BACKPRESSURE_HIGH_BYTES') },
        { variable: 'PHILOTES_BACKPRESSURE_LOW_WATERMARK', value: '100', origin: 'environment', rule: expect.stringContaining('replaced by PHILOTES_BACKPRESSURE_LOW_BYTES') },
      ]);
    });

    it('lets the environment override the file', () => {
      const file = tempFile('philotes.yaml', 'cdc: { batch_size: 2000 }\n');
      expect(loadSettings({ PHILOTES_CONFIG_FILE: file, PHILOTES_CDC_BATCH_SIZE: '10' }).settings.batchSize).toBe(10);
    });

    it('rejects unknown keys, bad values and unreadable files with the file as origin', () => {
      const file = tempFile('philotes.yaml', 'cdc: { batch_sise: 5, flush_interval: fast }\n');
      expect(problemsFor({ PHILOTES_CONFIG_FILE: file })).toEqual([
        '- PHILOTES_CDC_BATCH_SISE (from config file): is not a Philotes setting (did you mean PHILOTES_CDC_BATCH_SIZE?)',
        '- PHILOTES_CDC_FLUSH_INTERVAL="fast" (from config file): must be a duration such as 500ms, 10s, 5m, 1h or 168h',
      ]);
      expect(problemsFor({ PHILOTES_CONFIG_FILE: '/nonexistent/philotes.yaml' })).toEqual([
        '- PHILOTES_CONFIG_FILE="/nonexistent/philotes.yaml": cannot be read (ENOENT)',
      ]);
      const broken = tempFile('broken.yaml', 'cdc: [unclosed\n');
      expect(problemsFor({ PHILOTES_CONFIG_FILE: broken })[0]).toMatch(/^- PHILOTES_CONFIG_FILE=".*broken.yaml": is not valid YAML or JSON/);
      const list = tempFile('list.yaml', '- a\n- b\n');
      expect(problemsFor({ PHILOTES_CONFIG_FILE: list })[0]).toMatch(/must hold a mapping of settings/);
    });
  });
});
