-- purpose: how many records (ROWGUIDs) had a work order routed by :known_by (UTC).
SELECT count(DISTINCT rowguid) FROM work_order_version WHERE routed_at <= :known_by
