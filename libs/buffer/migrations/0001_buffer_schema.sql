-- The buffer database: the bus between wal-reader, iceberg-writer and dlq-admin.
-- Applied by every app at start (under an advisory lock) or by `npm run migrate`. Append-only:
-- later changes go in new files.

-- Source tables seen by a reader. Events, progress, schema history and controls refer to a table
-- by this id, which keeps the hot event rows and their index small.
CREATE TABLE cdc_tables (
  table_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id   text NOT NULL,
  schema_name text NOT NULL,
  table_name  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id, schema_name, table_name)
);

-- One row per change, MessagePack-encoded. (table_id, commit_lsn, seq) identifies an event: a
-- re-delivery after a reader restart hits the primary key and is dropped (ON CONFLICT DO NOTHING).
-- commit_ts joins the key only because a partitioned table's key must hold the partition column;
-- it is a function of commit_lsn, so uniqueness is unchanged. Partitions by commit time make
-- retention a DROP of old partitions; the default partition catches anything no range covers.
CREATE TABLE cdc_events (
  table_id       integer     NOT NULL,
  commit_lsn     pg_lsn      NOT NULL,
  seq            bigint      NOT NULL,           -- position within the source transaction (or the copy)
  op             char(1)     NOT NULL CHECK (op IN ('I', 'U', 'D', 'T', 'R')), -- R = initial-copy row
  xid            bigint,
  commit_ts      timestamptz NOT NULL,
  schema_version integer     NOT NULL,
  payload        bytea       NOT NULL,
  PRIMARY KEY (table_id, commit_lsn, seq, commit_ts)
) PARTITION BY RANGE (commit_ts);
CREATE TABLE cdc_events_default PARTITION OF cdc_events DEFAULT;

-- Per source: everything up to confirmed_lsn (whole transactions) is in cdc_events. Written in the
-- same transaction as the events it covers. A source transaction too large for one buffer write is
-- stored in parts; partial_* says how far it got, so a re-delivery after a crash skips what is in.
CREATE TABLE cdc_checkpoints (
  source_id          text PRIMARY KEY,
  slot_name          text        NOT NULL,
  confirmed_lsn      pg_lsn      NOT NULL,
  partial_commit_lsn pg_lsn,
  partial_seq        bigint,
  last_commit_ts     timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- The initial copy of each table. Rows are copied under one snapshot; streamed transactions that
-- commit before snapshot_lsn and are visible in the snapshot (xmin, xmax, xip) are already in the
-- copy and are skipped. Writers leave a table alone while its copy is 'copying'.
CREATE TABLE cdc_backfill (
  table_id      integer PRIMARY KEY REFERENCES cdc_tables (table_id),
  status        text        NOT NULL CHECK (status IN ('copying', 'done')),
  snapshot_lsn  pg_lsn      NOT NULL,
  snapshot_xmin bigint      NOT NULL,
  snapshot_xmax bigint      NOT NULL,
  snapshot_xip  bigint[]    NOT NULL,
  rows_copied   bigint      NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);

-- Column lists from pgoutput Relation messages; a new version whenever they change.
CREATE TABLE cdc_schema_history (
  table_id         integer     NOT NULL REFERENCES cdc_tables (table_id),
  version          integer     NOT NULL,
  relation_oid     bigint      NOT NULL,
  replica_identity char(1)     NOT NULL,  -- d(efault) n(othing) f(ull) i(ndex), as pgoutput sends it
  columns          jsonb       NOT NULL,  -- [{name, typeOid, typeName, typeModifier, key}]
  first_lsn        pg_lsn      NOT NULL,
  captured_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_id, version)
);

-- Per table: the last event applied to Iceberg. Committed in the same transaction as the catalog's
-- compare-and-swap, so the table and the offset never disagree.
CREATE TABLE cdc_writer_progress (
  table_id          integer PRIMARY KEY REFERENCES cdc_tables (table_id),
  applied_lsn       pg_lsn      NOT NULL,
  applied_seq       bigint      NOT NULL,
  applied_commit_ts timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Events that could not be written after their retries. The event is copied whole, so the buffer's
-- retention never takes a dead letter's payload with it.
CREATE TABLE cdc_dead_letters (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_id       integer     NOT NULL REFERENCES cdc_tables (table_id),
  commit_lsn     pg_lsn      NOT NULL,
  seq            bigint      NOT NULL,
  op             char(1)     NOT NULL,
  xid            bigint,
  commit_ts      timestamptz NOT NULL,
  schema_version integer     NOT NULL,
  payload        bytea       NOT NULL,
  error_kind     text        NOT NULL,   -- low-cardinality class, as the retry policy names it
  error_message  text        NOT NULL,
  attempts       integer     NOT NULL,
  status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replaying', 'replayed', 'discarded')),
  status_reason  text,
  history        jsonb       NOT NULL DEFAULT '[]', -- every failure and status change, oldest first
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (table_id, commit_lsn, seq)
);
CREATE INDEX cdc_dead_letters_status_created ON cdc_dead_letters (status, created_at, id);

-- Every process's lifecycle state and heartbeat, for dlq-admin and operators.
CREATE TABLE pipeline_instances (
  instance_id  text PRIMARY KEY,
  app          text        NOT NULL,
  source_id    text,
  state        text        NOT NULL CHECK (state IN ('starting', 'running', 'paused', 'stopping', 'stopped', 'failed')),
  reason       text,
  state_since  timestamptz NOT NULL,
  started_at   timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  details      jsonb       NOT NULL DEFAULT '{}'
);

CREATE TABLE pipeline_transitions (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id text        NOT NULL,
  from_state  text        NOT NULL,
  to_state    text        NOT NULL,
  reason      text,
  at          timestamptz NOT NULL
);
CREATE INDEX pipeline_transitions_instance ON pipeline_transitions (instance_id, at);

-- Operator commands: pause or resume a whole source (table_id NULL) or one table.
CREATE TABLE pipeline_controls (
  source_id    text        NOT NULL,
  table_id     integer     REFERENCES cdc_tables (table_id),
  paused       boolean     NOT NULL,
  reason       text,
  requested_by text,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipeline_controls_scope ON pipeline_controls (source_id, coalesce(table_id, 0));

-- The Iceberg SQL catalog, with the columns of Iceberg's JdbcCatalog (V1 schema) and PyIceberg's
-- SqlCatalog, so those engines can open the same catalog. IF NOT EXISTS: they may have made it.
CREATE TABLE IF NOT EXISTS iceberg_tables (
  catalog_name               varchar(255) NOT NULL,
  table_namespace            varchar(255) NOT NULL,
  table_name                 varchar(255) NOT NULL,
  metadata_location          varchar(1000),
  previous_metadata_location varchar(1000),
  iceberg_type               varchar(5),
  PRIMARY KEY (catalog_name, table_namespace, table_name)
);

CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
  catalog_name   varchar(255) NOT NULL,
  namespace      varchar(255) NOT NULL,
  property_key   varchar(255) NOT NULL,
  property_value varchar(1000),
  PRIMARY KEY (catalog_name, namespace, property_key)
);
