-- One table never stops the others.

-- A table its writers could not write (a primary-key change, storage access refused, a payload
-- that does not decode, ...): writers leave it alone, and its backlog no longer counts towards its
-- source's backpressure, until an operator resumes or resyncs it (which delete the row). Its
-- events stay in the buffer: nothing is dropped.
CREATE TABLE cdc_table_failures (
  table_id      integer PRIMARY KEY REFERENCES cdc_tables (table_id),
  error_kind    text        NOT NULL,   -- as the error policy names it
  error_message text        NOT NULL,   -- never row values
  action        text        NOT NULL,   -- what the operator should do
  attempts      integer     NOT NULL,
  failed_by     text,                   -- the writer instance that gave up
  failed_at     timestamptz NOT NULL DEFAULT now()
);

-- Backpressure in bytes: per table, the payload bytes ever stored in cdc_events (less those
-- removed before being applied: a copy's plan, a start over), beside the bytes its writer applied
-- (cdc_writer_progress.applied_bytes). Their difference is the table's unapplied backlog, read in
-- O(tables) however deep the buffer is. Raised in the transaction that stores the events.
CREATE TABLE cdc_table_volume (
  table_id     integer PRIMARY KEY REFERENCES cdc_tables (table_id),
  stored_bytes bigint NOT NULL DEFAULT 0
);
ALTER TABLE cdc_writer_progress ADD COLUMN applied_bytes bigint NOT NULL DEFAULT 0;

-- What is in the buffer now, counted once.
INSERT INTO cdc_table_volume (table_id, stored_bytes)
SELECT table_id, sum(octet_length(payload)) FROM cdc_events GROUP BY table_id;
UPDATE cdc_writer_progress p
   SET applied_bytes = coalesce((SELECT sum(octet_length(e.payload)) FROM cdc_events e
                                  WHERE e.table_id = p.table_id AND (e.commit_lsn, e.seq) <= (p.applied_lsn, p.applied_seq)), 0);
