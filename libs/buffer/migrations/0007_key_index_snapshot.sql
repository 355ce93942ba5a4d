-- The snapshot each table's key index describes (#15), written in the same transaction as the
-- index's changes and the catalog swap. A table whose current snapshot is another (a commit of
-- another engine, an index lost or emptied by hand) has its index rebuilt from its files before
-- the writer deletes by position again.
CREATE TABLE iceberg_key_index_state (
  table_id    integer PRIMARY KEY REFERENCES cdc_tables (table_id),
  snapshot_id bigint  NOT NULL
);

-- A compaction moves keys by place (file and position), not by key: the index by file gains the
-- position, so each moved row is one probe.
DROP INDEX iceberg_key_index_by_file;
CREATE INDEX iceberg_key_index_by_place ON iceberg_key_index (table_id, file_id, pos);

-- File numbers are shared by every table and renumbered by every rebuild: 32 bits would run out.
ALTER TABLE iceberg_key_index_files ALTER COLUMN file_id TYPE bigint;
ALTER TABLE iceberg_key_index ALTER COLUMN file_id TYPE bigint;

-- The foreign key to cdc_tables cost a probe per placed key (about 40% of a placement,
-- measured): the index's rows follow its table's commits, and cdc_tables rows are never deleted.
ALTER TABLE iceberg_key_index DROP CONSTRAINT iceberg_key_index_table_id_fkey;
