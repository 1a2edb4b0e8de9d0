-- purpose: an empty per-connection staging table of the record versions a page of routing took (rowguid, change_seq).
CREATE TEMP TABLE IF NOT EXISTS stage_routed (rowguid VARCHAR(64) NOT NULL, change_seq BIGINT NOT NULL);
DELETE FROM stage_routed
