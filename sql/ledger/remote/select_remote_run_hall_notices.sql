-- purpose: what a run learnt that goes back to a collecting hall besides validation: the property authorities' 补正 / 不予受理 received in the run, deliveries the receiver refused or the gateway could not send, and withdrawals the receiver refused (already 登簿), recorded in the run.
SELECT v.sjdwdm AS hall, p.sjdwmc AS hall_name, v.bwid, v.change_seq, p.sjsj AS collected, v.xzqh, v.business_type,
       'event' AS kind, e.status, e.reason, e.detail, NULL AS code
FROM remote_event e
JOIN remote_verdict v ON v.source = e.source AND v.change_seq = e.change_seq
JOIN remote_package p ON p.source = e.source AND p.change_seq = e.change_seq
WHERE e.run_id = :run_id AND e.accepted AND e.status IN ('correction', 'refused')
UNION ALL
SELECT v.sjdwdm AS hall, p.sjdwmc AS hall_name, v.bwid, v.change_seq, p.sjsj AS collected, v.xzqh, v.business_type,
       'delivery' AS kind, d.status, d.reason, NULL AS detail, d.code
FROM remote_delivery d
JOIN remote_verdict v ON v.source = d.source AND v.change_seq = d.change_seq
JOIN remote_package p ON p.source = d.source AND p.change_seq = d.change_seq
WHERE d.outcome_run_id = :run_id AND d.status IN ('rejected', 'failed')
UNION ALL
SELECT v.sjdwdm AS hall, p.sjdwmc AS hall_name, v.bwid, v.change_seq, p.sjsj AS collected, v.xzqh, v.business_type,
       'delivery' AS kind, 'withdrawal_refused' AS status, d.withdrawal_reason AS reason, NULL AS detail, NULL AS code
FROM remote_delivery d
JOIN remote_verdict v ON v.source = d.source AND v.change_seq = d.change_seq
JOIN remote_package p ON p.source = d.source AND p.change_seq = d.change_seq
WHERE d.outcome_run_id = :run_id AND d.withdrawal = 'refused'
ORDER BY 1, 4
