-- purpose: an earlier version that never left the gateway is superseded when a staged later version of the same work order arrives.
UPDATE work_order_version
SET status = 'superseded'
WHERE status IN ('ready', 'held', 'quarantined')
  AND EXISTS (
      SELECT 1 FROM stage_work_order s
      WHERE s.rowguid = work_order_version.rowguid AND s.utility = work_order_version.utility AND s.version > work_order_version.version
  )
