-- purpose: lifetime balance — package versions received, counted on their own, and what must never be (a verdict, a version in force or a delivery without its package version).
SELECT
    (SELECT count(*) FROM remote_package) AS received,
    (SELECT count(*) FROM remote_verdict v
     WHERE NOT EXISTS (SELECT 1 FROM remote_package p WHERE p.source = v.source AND p.change_seq = v.change_seq)) AS verdicts_without_package,
    (SELECT count(*) FROM remote_package_state s
     WHERE NOT EXISTS (SELECT 1 FROM remote_verdict v WHERE v.source = s.source AND v.change_seq = s.change_seq)) AS states_without_verdict,
    (SELECT count(*) FROM remote_delivery d
     WHERE NOT EXISTS (SELECT 1 FROM remote_verdict v WHERE v.source = d.source AND v.change_seq = d.change_seq AND v.status = 'passed')) AS deliveries_without_passed_verdict
