-- purpose: lifetime balance — exchange changes received, counted on their own, and what must never be (a verdict or a record state without its change).
SELECT
    (SELECT count(*) FROM received_record) AS received,
    (SELECT count(*) FROM record_verdict v
     WHERE NOT EXISTS (SELECT 1 FROM received_record r WHERE r.source = v.source AND r.change_seq = v.change_seq)) AS verdicts_without_change,
    (SELECT count(*) FROM record_state s
     WHERE NOT EXISTS (SELECT 1 FROM record_verdict v WHERE v.source = s.source AND v.change_seq = s.change_seq)) AS states_without_verdict
