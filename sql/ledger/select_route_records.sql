-- purpose: the record versions to route — those a run validated, and those whose work orders wait (held, or quarantined by the registry) — with the fields routing reads.
SELECT s.rowguid AS "ROWGUID", s.source, s.change_seq, s.status, v.requested, v.blocked,
       r.xzqh AS "XZQH", r.ydhh AS "YDHH", r.yshh AS "YSHH", r.gsjgbm AS "GSJGBM", r.gsjgmc AS "GSJGMC",
       r.yqhh AS "YQHH", r.rqjgbm AS "RQJGBM", r.rqjgmc AS "RQJGMC", r.ynhh AS "YNHH", r.grjgbm AS "GRJGBM", r.grjgmc AS "GRJGMC"
FROM record_state s
JOIN record_verdict v ON v.source = s.source AND v.change_seq = s.change_seq
JOIN received_record r ON r.source = s.source AND r.change_seq = s.change_seq
WHERE s.run_id = :run_id
   OR s.rowguid IN (
       SELECT w.rowguid FROM work_order w
       WHERE w.status = 'held' OR (w.status = 'quarantined' AND w.reason_code IN ('INSTITUTION_UNKNOWN', 'INSTITUTION_OTHER_TYPE', 'INSTITUTION_RETIRED'))
          OR (w.status = 'quarantined' AND w.reason_code = 'VALIDATION_BLOCKED' AND EXISTS (
              SELECT 1 FROM rule_failure f
              WHERE f.source = w.source AND f.change_seq = w.change_seq AND f.utility = w.utility AND f.rule_id = 'INSTITUTION_UNKNOWN'))
   )
ORDER BY s.rowguid
