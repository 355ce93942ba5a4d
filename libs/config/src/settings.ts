import { IsIn, IsOptional, Matches } from 'class-validator';
import { AtLeastSetting, AtMostSetting, LessThanSetting } from './cross-field';
import type { ListenAddress } from './listen-address';
import type { PartitioningEntry } from './partitioning-setting';
import { DurationInRange, InRange, OneOf, Pattern } from './rules';
import { Setting } from './setting';
import type { SortOrderEntry, TablePropertiesEntry } from './table-settings';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const LOG_LEVELS = ['error', 'warn', 'info', 'verbose', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export const SNAPSHOT_MODES = ['initial', 'never'] as const;
export const PARTITIONED_TABLE_MODES = ['root', 'leaves'] as const;
export type PartitionedTableMode = (typeof PARTITIONED_TABLE_MODES)[number];
export const ICEBERG_MODES = ['auto', 'append', 'upsert'] as const;
export type IcebergMode = (typeof ICEBERG_MODES)[number];
export const UNREPRESENTABLE_POLICIES = ['reject', 'null'] as const;
export type UnrepresentablePolicy = (typeof UNREPRESENTABLE_POLICIES)[number];
export const UPSERT_DELETES = ['position', 'equality'] as const;
export type UpsertDeletesPolicy = (typeof UPSERT_DELETES)[number];
export type SnapshotMode = (typeof SNAPSHOT_MODES)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

const PARQUET_COMPRESSION = /^(zstd(\((?:[1-9]|1\d|2[0-2])\))?|gzip(\([0-9]\))?|brotli(\((?:[0-9]|1[01])\))?|snappy|uncompressed)$/;
const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;
/** Iceberg namespace template: "."-separated levels of [A-Za-z0-9_] and placeholders, holding {schema}. */
const NAMESPACE_TEMPLATE = /^(?=.*\{schema\})(?=.{1,255}$)(?:[A-Za-z0-9_]|\{source\}|\{schema\})+(?:\.(?:[A-Za-z0-9_]|\{source\}|\{schema\})+)*$/;

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

  @Setting({ env: 'PHILOTES_TCP_USER_TIMEOUT', kind: 'duration', default: '30s', doc: 'How soon the databases drop a connection whose peer vanished without closing it (tcp_user_timeout, keepalives within it), asked for on every buffer and source connection: a lost node gives up its leader lock, table leases and replication slot in this time, not the kernel\'s two hours. 0s sends nothing (for a pooler that refuses startup options).' })
  @DurationInRange(0, 60 * MINUTE)
  tcpUserTimeoutMs!: number;

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

  @Setting({ env: 'PHILOTES_CDC_PARTITIONED_TABLES', kind: 'string', default: 'root', doc: 'How the publication the reader creates publishes a partitioned table. root: as one table under the partitioned table\'s name (publish_via_partition_root), one Iceberg table whatever its partitions do; leaves: each partition as a table of its own. An existing publication is used as it is.' })
  @OneOf(PARTITIONED_TABLE_MODES)
  partitionedTables!: PartitionedTableMode;

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

  @Setting({ env: 'PHILOTES_CDC_BUFFER_BYTES', kind: 'size', default: '64MB', reloadable: true, doc: 'Bytes the reader holds received and not yet stored, each of its receive queue and its pending events (a batch is a quarter of it): with PHILOTES_CDC_BUFFER_SIZE, what bounds its memory whatever the rows look like.' })
  @InRange(1024 * 1024, 4 * 1024 ** 3)
  bufferBytes!: number;

  @Setting({ env: 'PHILOTES_CDC_MAX_EVENT_BYTES', kind: 'size', default: '64MB', reloadable: true, doc: 'Largest change the reader takes in (its replication message as the source sends it: text forms, bytea as hex, or its encoded payload). A larger one is never held in memory: it is stored as its size only and goes to the dead letters with the reason; the stream goes on.' })
  @InRange(1024, 1024 ** 3)
  maxEventBytes!: number;

  @Setting({ env: 'PHILOTES_CDC_BATCH_SIZE', kind: 'integer', default: '1000', reloadable: true, doc: 'Events per buffer write (reader); the writer reads pages of this many events, at least 20000.' })
  @InRange(1, 1_000_000)
  batchSize!: number;

  @Setting({ env: 'PHILOTES_CDC_FLUSH_INTERVAL', kind: 'duration', default: '5s', reloadable: true, doc: 'Longest time an event waits before its batch is written.' })
  @DurationInRange(10, HOUR)
  flushIntervalMs!: number;

  @Setting({ env: 'PHILOTES_CDC_BUFFER_RETENTION', kind: 'duration', default: '168h', doc: 'How long applied events stay in the buffer (events not yet applied always stay).' })
  @DurationInRange(SECOND, 365 * DAY)
  bufferRetentionMs!: number;

  @Setting({ env: 'PHILOTES_CDC_BUFFER_PARTITION_INTERVAL', kind: 'duration', default: '24h', doc: 'Commit-time range of each cdc_events partition, made ahead by the writers; retention drops a partition whole once all its events are applied and its range is past the retention. Keep it longer than the cleanup interval.' })
  @DurationInRange(SECOND, 30 * 24 * HOUR)
  bufferPartitionIntervalMs!: number;

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

  @Setting({ env: 'PHILOTES_DLQ_RETENTION', kind: 'duration', default: '168h', doc: 'How long settled dead letters (replayed, discarded, superseded) are kept; pending ones are never removed.' })
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

  // ── Iceberg (iceberg-writer) ────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_ICEBERG_WAREHOUSE', kind: 'string', default: './data/warehouse', doc: 'Where table files go: a local directory, or s3://bucket/prefix.' })
  @Pattern(/^\S+$/, 'a directory or an s3:// URI')
  icebergWarehouse!: string;

  @Setting({ env: 'PHILOTES_ICEBERG_CATALOG_NAME', kind: 'string', default: 'philotes', doc: 'Catalog name in the SQL catalog tables; other engines must use the same name.' })
  @Pattern(/^[A-Za-z0-9_.-]{1,255}$/, 'letters, digits, ., _ or -, at most 255 characters')
  icebergCatalogName!: string;

  @Setting({
    env: 'PHILOTES_ICEBERG_NAMESPACE',
    kind: 'string',
    default: '{schema}',
    doc: 'Namespace template of the Iceberg tables: {schema} (required) and {source} are replaced by the source schema and PHILOTES_CDC_SOURCE_ID, "." separates levels; e.g. {source}.{schema} when several sources share a catalog.',
  })
  @Pattern(NAMESPACE_TEMPLATE, 'levels of letters, digits, _, {source} or {schema}, separated by ".", with {schema} in it (else two schemas\' tables of one name would share an Iceberg table), at most 255 characters')
  icebergNamespace!: string;

  @Setting({ env: 'PHILOTES_ICEBERG_MODE', kind: 'string', default: 'auto', doc: 'auto: upsert for tables with a primary key or REPLICA IDENTITY FULL, append otherwise; or append / upsert for all tables.' })
  @OneOf(ICEBERG_MODES)
  icebergMode!: IcebergMode;

  @Setting({ env: 'PHILOTES_ICEBERG_TABLE_MODES', kind: 'list', default: '', doc: 'Per-table modes, e.g. public.audit=append,public.users=upsert; they win over PHILOTES_ICEBERG_MODE.' })
  @Matches(/^[^.\s,=]+\.[^.\s,=]+=(append|upsert)$/, { each: true, message: 'must list schema.table=append or schema.table=upsert, separated by commas' })
  icebergTableModes!: string[];

  @Setting({ env: 'PHILOTES_ICEBERG_COLUMN_TYPES', kind: 'list', default: '', doc: 'Per-column type overrides, e.g. public.orders.amount=string: the column is written as text (for numerics that do not fit a decimal).' })
  @Matches(/^[^.\s,=]+\.[^.\s,=]+\.[^.\s,=]+=string$/, { each: true, message: 'must list schema.table.column=string, separated by commas' })
  icebergColumnTypes!: string[];

  @Setting({
    env: 'PHILOTES_ICEBERG_PARTITIONING',
    kind: 'partitioning',
    default: '',
    doc: 'Iceberg partition specs per table, e.g. public.payment=month(payment_date);public.events=bucket(16,id),day(ts): tables separated by ;, fields by , (identity(col) or col, bucket(N,col), truncate(W,col), year, month, day, hour, void(col); names may be double-quoted). Wins over a range-partitioned source; schema.table= leaves a table unpartitioned. A change adds a new spec on the next commit (old files keep theirs).',
  })
  icebergPartitioning!: PartitioningEntry[];

  @Setting({ env: 'PHILOTES_ICEBERG_UNREPRESENTABLE', kind: 'string', default: 'reject', doc: 'Values Iceberg cannot hold (numeric NaN/±Infinity, ±infinity dates and timestamps): reject sends the event to the dead letters, null writes NULL.' })
  @OneOf(UNREPRESENTABLE_POLICIES)
  icebergUnrepresentable!: UnrepresentablePolicy;

  @Setting({
    env: 'PHILOTES_ICEBERG_UPSERT_DELETES',
    kind: 'string',
    default: 'position',
    doc: 'How new upsert tables with a primary key delete and update rows: position (a key index in the buffer database finds each key\'s row; v2 tables get position delete files, format-version 3 tables deletion vectors; every engine reads them) or equality (equality delete files, as earlier releases wrote every upsert table). A table keeps the way it was created with; tables without a primary key always delete by equality.',
  })
  @OneOf(UPSERT_DELETES)
  icebergUpsertDeletes!: UpsertDeletesPolicy;

  @Setting({
    env: 'PHILOTES_ICEBERG_CONVERT_EQUALITY_DELETES',
    kind: 'boolean',
    default: 'false',
    doc: 'With PHILOTES_ICEBERG_UPSERT_DELETES=position: existing upsert tables with a primary key that delete by equality switch to deleting by position at their next commit (their key index is built from their files first); compaction then applies and removes their equality deletes. Off: they keep writing equality deletes.',
  })
  icebergConvertEqualityDeletes!: boolean;

  @Setting({
    env: 'PHILOTES_ICEBERG_KEY_INDEX_CACHE_KEYS',
    kind: 'integer',
    default: '1000000',
    doc: 'Keys of upsert tables deleting by position whose rows a writer process remembers, over all the tables it works on (the ones it wrote or looked up last; the largest table gives up its oldest first): an update or delete of such a key is resolved in memory instead of by a lookup in the buffer database. About 100 bytes each (measured: the default holds about 100 MB); 0 turns the cache off; at most 16,000,000.',
  })
  // A table's keys are one Map, which holds at most 2^24 entries.
  @InRange(0, 16_000_000)
  icebergKeyIndexCacheKeys!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_TARGET_FILE_SIZE', kind: 'size', default: '64MB', reloadable: true, doc: 'Data written per commit of a table while it has a backlog (estimated from the buffered events); keeps a million rows from becoming thousands of files. The default of write.target-file-size-bytes: a table that records that property (per-table setting, another engine) uses its own.' })
  @InRange(1024, 4 * 1024 ** 3)
  icebergTargetFileSize!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_PARQUET_COMPRESSION', kind: 'string', doc: 'Parquet codec of every table, recorded as its write.parquet.compression-codec (and -level): zstd, zstd(1-22), gzip, gzip(0-9), brotli, brotli(0-11), snappy or uncompressed. Unset: the table\'s own property, else zstd. The level applies to the files Philotes writes as to other engines\' (Philotes compresses the pages itself: parquet-wasm takes no level).' })
  @IsOptional()
  @Pattern(PARQUET_COMPRESSION, 'zstd, zstd(1-22), gzip, gzip(0-9), brotli, brotli(0-11), snappy or uncompressed')
  icebergParquetCompression?: string;

  @Setting({ env: 'PHILOTES_ICEBERG_PARQUET_ROW_GROUP_SIZE', kind: 'size', doc: 'Parquet row group size of every table (uncompressed), recorded as write.parquet.row-group-size-bytes. Unset: the table\'s own property, else 128MB.' })
  @IsOptional()
  @InRange(1024, 2 * 1024 ** 3)
  icebergParquetRowGroupSize?: number;

  @Setting({ env: 'PHILOTES_ICEBERG_PARQUET_PAGE_SIZE', kind: 'size', doc: 'Parquet data page size of every table, recorded as write.parquet.page-size-bytes. Unset: the table\'s own property, else 1MB.' })
  @IsOptional()
  @InRange(64, 1024 ** 3)
  icebergParquetPageSize?: number;

  @Setting({ env: 'PHILOTES_ICEBERG_FORMAT_VERSION', kind: 'integer', doc: 'Iceberg format version of new tables, 2 or 3 (row lineage); an existing table of a lower version is upgraded, never downgraded. Unset: 2 for new tables, existing ones keep theirs. Per table: format-version in PHILOTES_ICEBERG_TABLE_PROPERTIES.' })
  @IsOptional()
  @IsIn([2, 3], { message: 'must be 2 or 3' })
  icebergFormatVersion?: number;

  @Setting({
    env: 'PHILOTES_ICEBERG_TABLE_PROPERTIES',
    kind: 'table-properties',
    default: '',
    doc: 'Per-table Iceberg properties, Iceberg\'s own names, e.g. public.events:write.parquet.compression-codec=zstd,write.parquet.compression-level=9;public.t:write.target-file-size-bytes=134217728 ("double-quote" names holding . : ; = or spaces, "" for a quote). They win over the global settings; unknown names pass into the table\'s properties, Iceberg\'s reserved ones and philotes.* are refused, except format-version (2 or 3), which sets the table\'s format version (see PHILOTES_ICEBERG_FORMAT_VERSION).',
  })
  icebergTableProperties!: TablePropertiesEntry[];

  @Setting({ env: 'PHILOTES_ICEBERG_SORT_ORDER', kind: 'sort-orders', default: '', doc: 'Per-table sort order of the rows in each data file, recorded as the table\'s sort order, e.g. public.events=ts desc nulls last,id;public.t=bucket(16,id),day(ts). Columns or their transforms (bucket(N,col), truncate(W,col), year, month, day, hour, void); asc by default, nulls first for asc and last for desc.' })
  icebergSortOrder!: SortOrderEntry[];

  @Setting({ env: 'PHILOTES_ICEBERG_READ_BYTES', kind: 'size', default: '16MB', reloadable: true, doc: 'Payload a writer reads from the buffer per page (one more page is read ahead): with the commit size, what bounds its memory whatever the rows look like.' })
  @InRange(64 * 1024, 1024 ** 3)
  icebergReadBytes!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_WRITE_CONCURRENCY', kind: 'integer', default: '2', doc: 'Tables a writer process works on at the same time.' })
  @InRange(1, 64)
  icebergWriteConcurrency!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_S3_ENDPOINT', kind: 'string', doc: 'S3-compatible endpoint URL (MinIO, Ceph, ...); unset for AWS.' })
  @IsOptional()
  @Pattern(/^https?:\/\/\S+$/, 'an http:// or https:// URL')
  icebergS3Endpoint?: string;

  @Setting({ env: 'PHILOTES_ICEBERG_S3_REGION', kind: 'string', default: 'us-east-1', doc: 'S3 region.' })
  @Pattern(/^[a-z0-9-]+$/, 'a region name')
  icebergS3Region!: string;

  @Setting({ env: 'PHILOTES_ICEBERG_S3_ACCESS_KEY_ID', kind: 'string', secret: true, doc: 'S3 access key; unset to use the AWS default credential chain.' })
  @IsOptional()
  icebergS3AccessKeyId?: string;

  @Setting({ env: 'PHILOTES_ICEBERG_S3_SECRET_ACCESS_KEY', kind: 'string', secret: true, doc: 'S3 secret key.' })
  @IsOptional()
  icebergS3SecretAccessKey?: string;

  @Setting({ env: 'PHILOTES_ICEBERG_S3_PATH_STYLE', kind: 'boolean', default: 'true', doc: 'Path-style S3 URLs (bucket in the path), as most S3-compatible servers need.' })
  icebergS3PathStyle!: boolean;

  @Setting({ env: 'PHILOTES_ICEBERG_MAINTENANCE_INTERVAL', kind: 'duration', default: '10m', doc: 'How often a writer compacts, expires snapshots and removes orphan files of the tables it owns.' })
  @DurationInRange(SECOND, DAY)
  icebergMaintenanceIntervalMs!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_COMPACTION_MIN_FILES', kind: 'integer', default: '16', reloadable: true, doc: 'Small files (or delete files) a table must have before compaction rewrites it.' })
  @InRange(2, 100_000)
  icebergCompactionMinFiles!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_COMPACTION_MAX_BYTES', kind: 'size', default: '512MB', reloadable: true, doc: 'Data files one compaction run of a table rewrites at most (small files and files that deletes hit, the most deleted first); what keeps a run, and the commit waiting for it, short. At least PHILOTES_ICEBERG_TARGET_FILE_SIZE, so a full-size file can be rewritten.' })
  @InRange(1024, 1024 ** 4)
  @AtLeastSetting('icebergTargetFileSize')
  icebergCompactionMaxBytes!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_SNAPSHOT_RETENTION', kind: 'duration', default: '24h', reloadable: true, doc: 'Snapshots older than this are expired (the current one and the last 5 always stay).' })
  @DurationInRange(SECOND, 3650 * DAY)
  icebergSnapshotRetentionMs!: number;

  @Setting({ env: 'PHILOTES_ICEBERG_ORPHAN_GRACE', kind: 'duration', default: '1h', reloadable: true, doc: 'Age before a file no snapshot references is deleted; keep it far above the longest commit (a commit in flight may still be about to reference its files).' })
  @DurationInRange(SECOND, 365 * DAY)
  icebergOrphanGraceMs!: number;

  // ── Admin API (dlq-admin) ────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_ADMIN_LISTEN_ADDR', kind: 'listen-address', default: ':8080', doc: 'Address of the dlq-admin API; it serves /health, /health/live, /health/ready and /metrics too.' })
  adminListenAddress!: ListenAddress;

  @Setting({ env: 'PHILOTES_ADMIN_TOKEN', kind: 'string', secret: true, doc: 'Bearer token every admin API route requires (health and metrics stay open). Required by dlq-admin unless PHILOTES_ADMIN_AUTH_DISABLED=true.' })
  @IsOptional()
  @Pattern(/^[\x21-\x7e]{16,512}$/, 'at least 16 printable characters without spaces')
  adminToken?: string;

  @Setting({ env: 'PHILOTES_ADMIN_AUTH_DISABLED', kind: 'boolean', default: 'false', doc: 'Serve the admin API without a token: an explicit opt-out for local use, refused when NODE_ENV=production.' })
  adminAuthDisabled!: boolean;

  @Setting({ env: 'PHILOTES_ADMIN_REPLAY_LIMIT', kind: 'integer', default: '10000', doc: 'Most dead letters one replay or discard by filter may touch.' })
  @InRange(1, 1_000_000)
  adminReplayLimit!: number;

  // ── Backpressure ────────────────────────────────────────────────────────────────────────────────
  @Setting({ env: 'PHILOTES_BACKPRESSURE_ENABLED', kind: 'boolean', default: 'true', doc: 'Pause reading the source while too much of its payload waits in the buffer for writers.' })
  backpressureEnabled!: boolean;

  @Setting({ env: 'PHILOTES_BACKPRESSURE_HIGH_BYTES', kind: 'size', default: '256MB', reloadable: true, doc: 'Unapplied payload of a source (tables writers may apply now: not paused, failed or held by a copy) at which its reader pauses.' })
  @InRange(1024, 1024 ** 4)
  backpressureHighBytes!: number;

  @Setting({ env: 'PHILOTES_BACKPRESSURE_LOW_BYTES', kind: 'size', default: '128MB', reloadable: true, doc: 'Unapplied payload of a source below which a paused reader resumes.' })
  @InRange(0, 1024 ** 4)
  @LessThanSetting('backpressureHighBytes')
  backpressureLowBytes!: number;

  @Setting({ env: 'PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES', kind: 'size', default: '4GB', reloadable: true, doc: 'Unapplied payload a paused or failed table may pile up before it is reported over its limit (API, gauge, alert); the reader keeps capturing it and nothing is dropped.' })
  @InRange(1024, 1024 ** 4)
  backpressureStoppedTableMaxBytes!: number;

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
