-- purpose: the work orders in force for a page of routed records whose work orders wait (the same selection as select_waiting_route_records, up to the page's last change).
SELECT w.rowguid, w.utility, w.version, w.source, w.change_seq, w.correction, w.account_no, w.institution_code, w.institution_version_id, w.xzqh, w.channel,
       w.destination, w.file_format, w.status, w.hold_until, w.reason_code, w.reason, w.run_id, w.routed_at,
       CASE WHEN EXISTS (SELECT 1 FROM delivery d WHERE d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version) THEN 1 ELSE 0 END AS has_delivery
FROM work_order w
WHERE w.rowguid IN (
    SELECT s.rowguid FROM record_state s
    WHERE s.routed_seq = s.change_seq AND s.change_seq > :after AND s.change_seq <= :high
      AND s.rowguid IN (
       SELECT w.rowguid FROM work_order w
       WHERE w.status = 'held' OR (w.status = 'quarantined' AND w.reason_code IN ('INSTITUTION_UNKNOWN', 'INSTITUTION_OTHER_TYPE', 'INSTITUTION_RETIRED'))
          OR (w.status = 'quarantined' AND w.reason_code = 'VALIDATION_BLOCKED' AND EXISTS (
              SELECT 1 FROM rule_failure f
              WHERE f.source = w.source AND f.change_seq = w.change_seq AND f.utility = w.utility AND f.rule_id = 'INSTITUTION_UNKNOWN'))
      )
)
