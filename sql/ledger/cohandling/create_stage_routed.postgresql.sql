-- purpose: a per-transaction staging table of the record versions a page of routing took (rowguid, change_seq).
CREATE TEMP TABLE stage_routed (rowguid VARCHAR(64) NOT NULL, change_seq BIGINT NOT NULL) ON COMMIT DROP
