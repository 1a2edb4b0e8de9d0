-- purpose: an empty per-connection staging table shaped like work_order_version, for the work orders a routing run writes.
CREATE TEMP TABLE IF NOT EXISTS stage_work_order AS SELECT * FROM work_order_version WHERE 0;
DELETE FROM stage_work_order
