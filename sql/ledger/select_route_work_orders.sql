-- purpose: the work orders in force for the records a routing run looks at (same selection as select_route_records).
SELECT rowguid, utility, version, source, change_seq, correction, account_no, institution_code, institution_version_id, xzqh, channel, destination, file_format, status, hold_until, reason_code, reason, run_id, routed_at,
       CASE WHEN EXISTS (SELECT 1 FROM delivery d WHERE d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version) THEN 1 ELSE 0 END AS has_delivery
FROM work_order w
WHERE w.rowguid IN (SELECT s.rowguid FROM record_state s WHERE s.run_id = :run_id)
   OR w.rowguid IN (
       SELECT h.rowguid FROM work_order h
       WHERE h.status = 'held' OR (h.status = 'quarantined' AND h.reason_code IN ('INSTITUTION_UNKNOWN', 'INSTITUTION_OTHER_TYPE', 'INSTITUTION_RETIRED'))
          OR (h.status = 'quarantined' AND h.reason_code = 'VALIDATION_BLOCKED' AND EXISTS (
              SELECT 1 FROM rule_failure f
              WHERE f.source = h.source AND f.change_seq = h.change_seq AND f.utility = h.utility AND f.rule_id = 'INSTITUTION_UNKNOWN'))
   )
