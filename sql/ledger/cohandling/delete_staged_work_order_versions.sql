-- purpose: a staged version re-routed (same record version, e.g. released from held) replaces its history row.
DELETE FROM work_order_version
WHERE EXISTS (
    SELECT 1 FROM stage_work_order s
    WHERE s.rowguid = work_order_version.rowguid AND s.utility = work_order_version.utility AND s.version = work_order_version.version
)
