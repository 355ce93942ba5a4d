import { IsOptional, Matches } from 'class-validator';
import { AtLeastSetting, AtMostSetting, LessThanSetting } from './cross-field';
import type { ListenAddress } from './listen-address';
import { DurationInRange, InRange, OneOf, Pattern } from './rules';
import { Setting } from './setting';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const LOG_LEVELS = ['error', 'warn', 'info', 'verbose', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export const SNAPSHOT_MODES = ['initial', 'never'] as const;
export type SnapshotMode = (typeof SNAPSHOT_MODES)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;

/**
 * Every setting of every Philotes app, one property per `PHILOTES_*` variable. The decorators are the
 * whole contract: which variable, its default, whether it reloads, and the rules it must satisfy.
 * The README's configuration table and the Helm chart's checks are generated from this class.
 *
 * Durations are held in milliseconds (`...Ms`).
 */
export class PhilotesSettings {
  // ── Source database (read by wal-reader) ────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_CDC_SOURCE_ID', kind: 'string', default: 'default', doc: 'Name of this source in the buffer, metrics and the admin API; one per source database.' })
  @Pattern(/^[a-z][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ or -, starting with a letter, at most 63 characters')
  sourceId!: string;

  @Setting({ env: 'PHILOTES_CDC_SOURCE_URL', kind: 'string', secret: true, doc: 'Source connection URL; when set it replaces the five PHILOTES_CDC_SOURCE_* parts below.' })
  @IsOptional()
  @Pattern(POSTGRES_URL, 'a postgres:// URL')
  sourceUrl?: string;

  @Setting({ env: 'PHILOTES_CDC_SOURCE_HOST', kind: 'string', default: 'localhost', doc: 'Source host.' })
  @Pattern(/^\S+$/, 'a host name or address')
  sourceHost!: string;

  @Setting({ env: 'PHILOTES_CDC_SOURCE_PORT', kind: 'integer', default: '5433', doc: 'Source port.' })
  @InRange(1, 65_535)
  sourcePort!: number;

  @Setting({ env: 'PHILOTES_CDC_SOURCE_DATABASE', kind: 'string', default: 'source', doc: 'Source database name.' })
  @Pattern(/^\S+$/, 'a database name')
  sourceDatabase!: string;

  @Setting({ env: 'PHILOTES_CDC_SOURCE_USER', kind: 'string', default: 'source', doc: 'Source user; needs the REPLICATION attribute.' })
  @Pattern(/^\S+$/, 'a user name')
  sourceUser!: string;

  @Setting({ env: 'PHILOTES_CDC_SOURCE_PASSWORD', kind: 'string', default: 'source', secret: true, doc: 'Source password.' })
  sourcePassword!: string;

  // ── Buffer database (all apps) ──────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_DATABASE_URL', kind: 'string', default: 'postgres://philotes:philotes@localhost:5432/philotes', secret: true, doc: 'Buffer database URL: events, checkpoints, dead letters, pipeline state and the Iceberg catalog.' })
  @Pattern(POSTGRES_URL, 'a postgres:// URL')
  databaseUrl!: string;

  @Setting({ env: 'PHILOTES_DATABASE_POOL_SIZE', kind: 'integer', default: '10', doc: 'Connections each app keeps to the buffer database.' })
  @InRange(1, 200)
  databasePoolSize!: number;

  @Setting({ env: 'PHILOTES_DATABASE_MIGRATE', kind: 'boolean', default: 'true', doc: 'Apply buffer-schema migrations at start (under an advisory lock). Turn off when a migration job does it.' })
  databaseMigrate!: boolean;

  // ── Change capture ──────────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_CDC_REPLICATION_SLOT', kind: 'string', default: 'philotes_cdc', doc: 'Logical replication slot on the source.' })
  @Pattern(/^[a-z0-9_]{1,63}$/, 'lowercase letters, digits or _, at most 63 characters (PostgreSQL slot name rules)')
  replicationSlot!: string;

  @Setting({ env: 'PHILOTES_CDC_PUBLICATION', kind: 'string', default: 'philotes_pub', doc: 'Publication on the source.' })
  @Pattern(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a PostgreSQL identifier (letters, digits, _), at most 63 characters')
  publication!: string;

  @Setting({ env: 'PHILOTES_CDC_TABLES', kind: 'list', default: '', doc: 'Tables the reader creates its publication for, as schema.table, comma-separated; empty means all tables. An existing publication is used as it is.' })
  @Matches(/^[^.\s,]+\.[^.\s,]+$/, { each: true, message: 'must list tables as schema.table, separated by commas' })
  tables!: string[];

  @Setting({ env: 'PHILOTES_CDC_SNAPSHOT_MODE', kind: 'string', default: 'initial', doc: 'initial: copy the rows already in the tables when a source is first read, then stream; never: stream changes only.' })
  @OneOf(SNAPSHOT_MODES)
  snapshotMode!: SnapshotMode;

  @Setting({ env: 'PHILOTES_CDC_LAG_WARNING_BYTES', kind: 'integer', default: '1073741824', doc: 'WAL the slot may hold back (bytes) before the reader logs a warning.' })
  @InRange(1, Number.MAX_SAFE_INTEGER)
  lagWarningBytes!: number;

  @Setting({ env: 'PHILOTES_CDC_LAG_WARNING_AGE', kind: 'duration', default: '5m', doc: 'How far behind the source the buffer may fall before the reader logs a warning.' })
  @DurationInRange(SECOND, 7 * DAY)
  lagWarningAgeMs!: number;

  @Setting({ env: 'PHILOTES_CDC_CHECKPOINT_INTERVAL', kind: 'duration', default: '10s', doc: 'Longest time between confirmations of the source position, even when idle.' })
  @DurationInRange(100, HOUR)
  checkpointIntervalMs!: number;

  @Setting({ env: 'PHILOTES_CDC_BUFFER_SIZE', kind: 'integer', default: '10000', doc: 'Decoded events the reader holds in memory before it stops reading from the source.' })
  @InRange(1, 10_000_000)
  @AtLeastSetting('batchSize')
  bufferSize!: number;

  @Setting({ env: 'PHILOTES_CDC_BATCH_SIZE', kind: 'integer', default: '1000', reloadable: true, doc: 'Events per buffer write (reader) and per Iceberg batch read (writer).' })
  @InRange(1, 1_000_000)
  batchSize!: number;

  @Setting({ env: 'PHILOTES_CDC_FLUSH_INTERVAL', kind: 'duration', default: '5s', reloadable: true, doc: 'Longest time an event waits before its batch is written.' })
  @DurationInRange(10, HOUR)
  flushIntervalMs!: number;

  @Setting({ env: 'PHILOTES_CDC_BUFFER_RETENTION', kind: 'duration', default: '168h', doc: 'How long applied events stay in the buffer.' })
  @DurationInRange(MINUTE, 365 * DAY)
  bufferRetentionMs!: number;

  @Setting({ env: 'PHILOTES_CDC_BUFFER_CLEANUP_INTERVAL', kind: 'duration', default: '1h', doc: 'How often applied events past retention are removed.' })
  @DurationInRange(SECOND, DAY)
  bufferCleanupIntervalMs!: number;

  // ── Retry ───────────────────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_RETRY_MAX_ATTEMPTS', kind: 'integer', default: '3', reloadable: true, doc: 'Attempts before an event goes to the dead letters (transient errors keep retrying the connection).' })
  @InRange(1, 1_000)
  retryMaxAttempts!: number;

  @Setting({ env: 'PHILOTES_RETRY_INITIAL_INTERVAL', kind: 'duration', default: '1s', reloadable: true, doc: 'First backoff delay.' })
  @DurationInRange(1, HOUR)
  @AtMostSetting('retryMaxIntervalMs')
  retryInitialIntervalMs!: number;

  @Setting({ env: 'PHILOTES_RETRY_MAX_INTERVAL', kind: 'duration', default: '30s', reloadable: true, doc: 'Longest backoff delay.' })
  @DurationInRange(1, DAY)
  retryMaxIntervalMs!: number;

  @Setting({ env: 'PHILOTES_RETRY_MULTIPLIER', kind: 'number', default: '2.0', reloadable: true, doc: 'Growth of the delay per attempt.' })
  @InRange(1, 100)
  retryMultiplier!: number;

  @Setting({ env: 'PHILOTES_RETRY_JITTER', kind: 'number', default: '0.2', reloadable: true, doc: 'Random spread of each delay, as a fraction (0.2 = ±20%); 0 turns jitter off.' })
  @InRange(0, 1)
  retryJitter!: number;

  // ── Dead letters ────────────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_DLQ_ENABLED', kind: 'boolean', default: 'true', doc: 'Send events that cannot be written to the dead letters; when off, such an event stops its table.' })
  dlqEnabled!: boolean;

  @Setting({ env: 'PHILOTES_DLQ_RETENTION', kind: 'duration', default: '168h', doc: 'How long dead letters are kept, whatever their status.' })
  @DurationInRange(MINUTE, 3650 * DAY)
  dlqRetentionMs!: number;

  // ── Health and metrics ──────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_HEALTH_ENABLED', kind: 'boolean', default: 'true', doc: 'Serve /health, /health/live, /health/ready and /metrics (wal-reader, iceberg-writer).' })
  healthEnabled!: boolean;

  @Setting({ env: 'PHILOTES_HEALTH_LISTEN_ADDR', kind: 'listen-address', default: ':8081', doc: 'Address of the health and metrics server (wal-reader, iceberg-writer).' })
  healthListenAddress!: ListenAddress;

  @Setting({ env: 'PHILOTES_HEALTH_READINESS_TIMEOUT', kind: 'duration', default: '5s', doc: 'Time each readiness check may take before it counts as down.' })
  @DurationInRange(100, MINUTE)
  healthReadinessTimeoutMs!: number;

  // ── Admin API (dlq-admin) ────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_ADMIN_LISTEN_ADDR', kind: 'listen-address', default: ':8080', doc: 'Address of the dlq-admin API; it serves /health, /health/live, /health/ready and /metrics too.' })
  adminListenAddress!: ListenAddress;

  // ── Backpressure ────────────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_BACKPRESSURE_ENABLED', kind: 'boolean', default: 'true', doc: 'Pause reading the source while too many events wait in the buffer.' })
  backpressureEnabled!: boolean;

  @Setting({ env: 'PHILOTES_BACKPRESSURE_HIGH_WATERMARK', kind: 'integer', default: '8000', reloadable: true, doc: 'Unapplied events of a source at which its reader pauses.' })
  @InRange(1, 1_000_000_000)
  backpressureHighWatermark!: number;

  @Setting({ env: 'PHILOTES_BACKPRESSURE_LOW_WATERMARK', kind: 'integer', default: '5000', reloadable: true, doc: 'Unapplied events of a source below which a paused reader resumes.' })
  @InRange(0, 1_000_000_000)
  @LessThanSetting('backpressureHighWatermark')
  backpressureLowWatermark!: number;

  @Setting({ env: 'PHILOTES_BACKPRESSURE_CHECK_INTERVAL', kind: 'duration', default: '1s', reloadable: true, doc: 'How often the buffer depth is measured.' })
  @DurationInRange(10, 10 * MINUTE)
  backpressureCheckIntervalMs!: number;

  // ── Process ─────────────────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_LOG_LEVEL', kind: 'string', default: 'info', reloadable: true, doc: `Least severe level logged: ${LOG_LEVELS.join(', ')}.` })
  @OneOf(LOG_LEVELS)
  logLevel!: LogLevel;

  @Setting({ env: 'PHILOTES_LOG_FORMAT', kind: 'string', default: 'auto', doc: 'json (one JSON object per line), text (for a terminal), or auto: text on a terminal, json otherwise.' })
  @OneOf(LOG_FORMATS)
  logFormat!: LogFormat;

  @Setting({ env: 'PHILOTES_INSTANCE_ID', kind: 'string', doc: 'Name of this process in the pipeline state; default host name and process id.' })
  @IsOptional()
  @Pattern(/^\S{1,200}$/, 'at most 200 characters without spaces')
  instanceId?: string;

  @Setting({ env: 'PHILOTES_HEARTBEAT_INTERVAL', kind: 'duration', default: '5s', doc: 'How often each process records that it is alive in the buffer database.' })
  @DurationInRange(100, 5 * MINUTE)
  heartbeatIntervalMs!: number;
}
