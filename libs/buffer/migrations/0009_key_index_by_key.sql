-- A compaction now moves keys by key (its runs carry their rows' keys), so the index by place
-- goes: every update of a key changed its columns, so each one added an entry to both indexes.
-- With room left on each page, an update that changes only the file and the position is a
-- heap-only tuple, touching no index (measured, embedded PostgreSQL with fsync off: 300,000
-- updates in key order 2.9-3.5 s with the index by place, 1.5 s without it at fillfactor 70, 80%
-- of them heap-only; 500,000 inserts 2.1-2.3 s against 1.7-1.9 s; 156 bytes a key against 239).
DROP INDEX iceberg_key_index_by_place;
ALTER TABLE iceberg_key_index SET (fillfactor = 70);
