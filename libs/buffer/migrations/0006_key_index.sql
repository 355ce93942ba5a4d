-- The key index of upsert tables written with position deletes or deletion vectors (#15): for
-- each live key, the data file and row position that hold it, so an update or delete of the key
-- becomes a delete by position instead of an equality delete every reader must compare. Its
-- changes commit in the writer's transaction with the catalog swap and the writer's progress.

-- The data files the index names, numbered so an entry carries four bytes, not a path.
CREATE TABLE iceberg_key_index_files (
  file_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_id integer NOT NULL REFERENCES cdc_tables (table_id),
  path     text    NOT NULL,
  UNIQUE (table_id, path)
);

-- One row per live key: its 16-byte digest (SHA-256 of the key's canonical form, truncated),
-- the file and the row's position in it. No foreign key on file_id: it would cost a probe per
-- row, and the writer removes a file only once no key names it.
CREATE TABLE iceberg_key_index (
  table_id integer NOT NULL REFERENCES cdc_tables (table_id),
  key      bytea   NOT NULL,
  file_id  integer NOT NULL,
  pos      bigint  NOT NULL,
  PRIMARY KEY (table_id, key)
);
CREATE INDEX iceberg_key_index_by_file ON iceberg_key_index (table_id, file_id);
