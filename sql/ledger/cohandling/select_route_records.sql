-- purpose: a page of records to route, in change order, with the fields routing reads; the derived table (a route_states_<kind> statement) says which record states: due for routing, or waiting.
SELECT s.rowguid AS "ROWGUID", s.source, s.change_seq, s.status, v.requested, v.blocked, s.run_id AS validated_by,
       r.xzqh AS "XZQH", r.ydhh AS "YDHH", r.yshh AS "YSHH", r.gsjgbm AS "GSJGBM", r.gsjgmc AS "GSJGMC",
       r.yqhh AS "YQHH", r.rqjgbm AS "RQJGBM", r.rqjgmc AS "RQJGMC", r.ynhh AS "YNHH", r.grjgbm AS "GRJGBM", r.grjgmc AS "GRJGMC"
FROM (/*inner*/) s
JOIN record_verdict v ON v.source = s.source AND v.change_seq = s.change_seq
JOIN received_record r ON r.source = s.source AND r.change_seq = s.change_seq
WHERE s.change_seq > :after
ORDER BY s.change_seq
LIMIT :page_size
