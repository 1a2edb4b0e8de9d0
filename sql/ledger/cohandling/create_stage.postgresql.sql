-- purpose: a per-transaction staging table shaped like received_record (no constraints), for re-read changes.
CREATE TEMP TABLE stage_received ON COMMIT DROP AS SELECT * FROM received_record WITH NO DATA
