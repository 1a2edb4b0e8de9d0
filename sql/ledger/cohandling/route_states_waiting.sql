-- purpose: record states of routed records whose work orders wait (held for a county's opening, or quarantined by the registry): each run looks them up again in the registry in force; the derived table of select_route_records / select_route_work_orders.
SELECT s.* FROM record_state s
WHERE s.routed_seq = s.change_seq
  AND s.rowguid IN (
       SELECT w.rowguid FROM work_order w
       WHERE w.status = 'held' OR (w.status = 'quarantined' AND w.reason_code IN ('INSTITUTION_UNKNOWN', 'INSTITUTION_OTHER_TYPE', 'INSTITUTION_RETIRED'))
          OR (w.status = 'quarantined' AND w.reason_code = 'VALIDATION_BLOCKED' AND EXISTS (
              SELECT 1 FROM rule_failure f
              WHERE f.source = w.source AND f.change_seq = w.change_seq AND f.utility = w.utility AND f.rule_id = 'INSTITUTION_UNKNOWN'))
  )
