-- purpose: a per-transaction staging table shaped like work_order_version, for the work orders a routing run writes.
CREATE TEMP TABLE stage_work_order ON COMMIT DROP AS SELECT * FROM work_order_version WITH NO DATA
