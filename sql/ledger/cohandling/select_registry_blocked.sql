-- purpose: work orders blocked at validation only because their institution code was not in the registry then (re-checked against the registry in force at each routing).
SELECT w.rowguid, w.utility
FROM work_order w
WHERE w.status = 'quarantined' AND w.reason_code = 'VALIDATION_BLOCKED'
  AND EXISTS (
      SELECT 1 FROM rule_failure f
      WHERE f.source = w.source AND f.change_seq = w.change_seq AND f.utility = w.utility AND f.rule_id = 'INSTITUTION_UNKNOWN'
  )
  AND NOT EXISTS (
      SELECT 1 FROM rule_failure f
      WHERE f.source = w.source AND f.change_seq = w.change_seq AND f.utility = w.utility AND f.severity = 'error' AND f.rule_id <> 'INSTITUTION_UNKNOWN'
  )
