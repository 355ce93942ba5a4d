-- Copies run beside the stream (a table that joins, is created again, or is resynced): the
-- reader keeps streaming every other table meanwhile. Each plan of a table's copy takes the next
-- generation; the copy's batches and its finish count only while the table's row still holds it,
-- so a copy planned again (by a new leader, say) never takes rows of the one it replaced.
ALTER TABLE cdc_backfill ADD COLUMN generation bigint NOT NULL DEFAULT 0;

-- The publication's membership row the copy saw (pg_publication_rel.oid of the table, or of the
-- partitioned table it is published through): a table dropped from the publication and added back
-- gets a new one, even when no reader saw it leave (within a monitor interval, or while no reader
-- ran), and what changed while it was out never streamed: it is copied again. NULL for a table
-- published FOR ALL TABLES or by its schema.
ALTER TABLE cdc_backfill ADD COLUMN membership_oid bigint;
