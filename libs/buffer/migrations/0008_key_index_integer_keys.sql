-- A key of one integer column is now indexed as the integer itself, not as its digest (#15): the
-- entries written before name such keys by digest. Forgetting every table's index state makes
-- each writer rebuild its table's index from the table's files before it deletes by position again.
TRUNCATE iceberg_key_index, iceberg_key_index_files, iceberg_key_index_state;

-- The form of the keys, written by each commit: a writer of an earlier release still running
-- during an upgrade would write digests into an index that says it holds integers. It writes no
-- key_form, so its commits on such tables fail (and roll back whole) until it is replaced.
ALTER TABLE iceberg_key_index_state ADD COLUMN key_form smallint NOT NULL;
