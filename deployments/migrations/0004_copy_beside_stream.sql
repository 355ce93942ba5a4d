-- Copies run beside the stream (a table that joins, is created again, or is resynced): the
-- reader keeps streaming every other table meanwhile. Each plan of a table's copy takes the next
-- generation; the copy's batches and its finish count only while the table's row still holds it,
-- so a copy planned again (by a new leader, say) never takes rows of the one it replaced.
ALTER TABLE cdc_backfill ADD COLUMN generation bigint NOT NULL DEFAULT 0;
