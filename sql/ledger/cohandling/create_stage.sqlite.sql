-- purpose: an empty per-connection staging table shaped like received_record, for re-read changes.
CREATE TEMP TABLE IF NOT EXISTS stage_received AS SELECT * FROM received_record WHERE 0;
DELETE FROM stage_received
