-- Copies that run again: a table that joins the publication later, a table dropped and created
-- again (a new relation), and a resync an operator asks for.
--
-- relation_oid: the relation the copy read. A published table whose relation differs (dropped and
--   created again under the same name) is copied afresh.
-- copy_lsn: the position the copied rows take (the stream's start when the copy was planned).
-- reason: initial | joined | recreated | resync.
-- status 'requested': an operator asked for a resync; the reader plans it at its next start.
ALTER TABLE cdc_backfill ADD COLUMN relation_oid bigint;
ALTER TABLE cdc_backfill ADD COLUMN copy_lsn pg_lsn;
ALTER TABLE cdc_backfill ADD COLUMN reason text NOT NULL DEFAULT 'initial';
ALTER TABLE cdc_backfill ADD COLUMN requested_by text;
ALTER TABLE cdc_backfill DROP CONSTRAINT cdc_backfill_status_check;
-- failed: the copy cannot be done (the reader may not read the table, say): the table waits,
-- with the reason, every other table streams on; a resync tries again.
ALTER TABLE cdc_backfill ADD CONSTRAINT cdc_backfill_status_check CHECK (status IN ('requested', 'copying', 'done', 'failed'));
ALTER TABLE cdc_backfill ADD COLUMN failure text;

-- Writers leave a table alone while it is copying (a requested one still flows until then).
-- A whole source's resync (a lost slot, a restored or moved cluster): the reader starts over with
-- a new slot and copies every table, replacing each Iceberg table's content.
ALTER TABLE cdc_checkpoints ADD COLUMN resync_requested_at timestamptz;
ALTER TABLE cdc_checkpoints ADD COLUMN resync_requested_by text;

-- A requested copy has no snapshot yet.
ALTER TABLE cdc_backfill ALTER COLUMN snapshot_lsn DROP NOT NULL;
ALTER TABLE cdc_backfill ALTER COLUMN snapshot_xmin DROP NOT NULL;
ALTER TABLE cdc_backfill ALTER COLUMN snapshot_xmax DROP NOT NULL;
ALTER TABLE cdc_backfill ALTER COLUMN snapshot_xip DROP NOT NULL;
-- The table's buffered events belong to the source's old history (a source started over): its
-- copy replaces them without checking them against its snapshot.
ALTER TABLE cdc_backfill ADD COLUMN discard_history boolean NOT NULL DEFAULT false;

-- A copy planned again at the same position (or a source started over on a cluster whose LSNs
-- repeat) puts new events where superseded dead letters still sit: the commit time tells them
-- apart, as it does for cdc_events, so a new letter is never dropped as a duplicate.
ALTER TABLE cdc_dead_letters DROP CONSTRAINT cdc_dead_letters_table_id_commit_lsn_seq_key;
ALTER TABLE cdc_dead_letters ADD CONSTRAINT cdc_dead_letters_event UNIQUE (table_id, commit_lsn, seq, commit_ts);
