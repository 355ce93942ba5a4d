-- Replaying dead letters (dlq-admin → iceberg-writer).
--
-- row_key: the key of the row an upsert table's dead letter would change (the writer's key form),
-- NULL for append tables or when the key itself could not be read. A later change of the same
-- key that reaches the table marks the dead letter 'superseded' in that commit: replaying it then
-- would move the row back in time, so it is refused.
ALTER TABLE cdc_dead_letters ADD COLUMN row_key text;

ALTER TABLE cdc_dead_letters DROP CONSTRAINT cdc_dead_letters_status_check;
ALTER TABLE cdc_dead_letters ADD CONSTRAINT cdc_dead_letters_status_check
  CHECK (status IN ('pending', 'replaying', 'replayed', 'discarded', 'superseded'));

-- The writer asks on every step which dead letters of its table are still open; almost always none.
CREATE INDEX cdc_dead_letters_open ON cdc_dead_letters (table_id, commit_lsn, seq) WHERE status IN ('pending', 'replaying');
-- Keyset pages of the admin list (newest first) and retention by age.
CREATE INDEX cdc_dead_letters_created ON cdc_dead_letters (created_at, id);
