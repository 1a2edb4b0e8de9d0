-- purpose: what goes back to each collecting hall for a run: every returned package version with each error and warning, hall by hall.
SELECT v.sjdwdm AS hall, p.sjdwmc AS hall_name, v.bwid, v.change_seq, p.sjsj AS collected, v.xzqh, v.business_type,
       f.rule_id, f.severity, f.field, f.item, f.value, f.message_zh, f.message_en
FROM remote_verdict v
JOIN remote_package p ON p.source = v.source AND p.change_seq = v.change_seq
JOIN remote_failure f ON f.source = v.source AND f.change_seq = v.change_seq
WHERE v.run_id = :run_id AND v.status = 'returned'
ORDER BY v.sjdwdm, v.change_seq, f.severity, f.rule_id, f.field, f.item
