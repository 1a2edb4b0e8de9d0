-- purpose: record versions in force that routing has not taken yet (validated, not yet routed — whichever run validated them), in change order, one page at a time, with the fields routing reads.
SELECT s.rowguid AS "ROWGUID", s.source, s.change_seq, s.status, v.requested, v.blocked, s.run_id AS validated_by,
       r.xzqh AS "XZQH", r.ydhh AS "YDHH", r.yshh AS "YSHH", r.gsjgbm AS "GSJGBM", r.gsjgmc AS "GSJGMC",
       r.yqhh AS "YQHH", r.rqjgbm AS "RQJGBM", r.rqjgmc AS "RQJGMC", r.ynhh AS "YNHH", r.grjgbm AS "GRJGBM", r.grjgmc AS "GRJGMC"
FROM record_state s
JOIN record_verdict v ON v.source = s.source AND v.change_seq = s.change_seq
JOIN received_record r ON r.source = s.source AND r.change_seq = s.change_seq
WHERE (s.routed_seq IS NULL OR s.routed_seq <> s.change_seq) AND s.change_seq > :after
ORDER BY s.change_seq
LIMIT :page_size
