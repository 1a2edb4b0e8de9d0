-- purpose: routed records whose work orders wait (held for a county's opening, or quarantined by the registry), in change order, one page at a time: each run looks them up again in the registry in force.
SELECT s.rowguid AS "ROWGUID", s.source, s.change_seq, s.status, v.requested, v.blocked, s.run_id AS validated_by,
       r.xzqh AS "XZQH", r.ydhh AS "YDHH", r.yshh AS "YSHH", r.gsjgbm AS "GSJGBM", r.gsjgmc AS "GSJGMC",
       r.yqhh AS "YQHH", r.rqjgbm AS "RQJGBM", r.rqjgmc AS "RQJGMC", r.ynhh AS "YNHH", r.grjgbm AS "GRJGBM", r.grjgmc AS "GRJGMC"
FROM record_state s
JOIN record_verdict v ON v.source = s.source AND v.change_seq = s.change_seq
JOIN received_record r ON r.source = s.source AND r.change_seq = s.change_seq
WHERE s.routed_seq = s.change_seq AND s.change_seq > :after
  AND s.rowguid IN (
       SELECT w.rowguid FROM work_order w
       WHERE w.status = 'held' OR (w.status = 'quarantined' AND w.reason_code IN ('INSTITUTION_UNKNOWN', 'INSTITUTION_OTHER_TYPE', 'INSTITUTION_RETIRED'))
          OR (w.status = 'quarantined' AND w.reason_code = 'VALIDATION_BLOCKED' AND EXISTS (
              SELECT 1 FROM rule_failure f
              WHERE f.source = w.source AND f.change_seq = w.change_seq AND f.utility = w.utility AND f.rule_id = 'INSTITUTION_UNKNOWN'))
  )
ORDER BY s.change_seq
LIMIT :page_size
