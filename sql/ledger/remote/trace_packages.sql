-- purpose: trace: every version of the packages received (remote_package, by BWID) with its verdict and its delivery to the property's authority (by the version's key).
SELECT p.source, p.change_seq, p.change_time, p.op, p.bwid, p.sqbh, p.sjdwdm, p.sjdwmc, p.sjxzqh, p.sjsj, p.ywlx, p.zl, p.xzqh,
       p.run_id, p.received_at,
       v.status AS verdict_status, v.channel AS verdict_channel, v.destination AS verdict_destination, v.business_type,
       v.checklist_version_id, v.paper_handover, v.errors, v.warnings, v.validated_at,
       d.idempotency_key, d.channel AS delivery_channel, d.destination AS delivery_destination, d.correction,
       d.status AS delivery_status, d.attempts, d.files, d.receipt_id, d.code AS delivery_code, d.reason AS delivery_reason,
       d.planned_at, d.first_sent_at, d.delivered_at, d.withdrawal, d.withdrawal_reason, d.withdrawn_at, d.updated_at
FROM remote_package p
LEFT JOIN remote_verdict v ON v.source = p.source AND v.change_seq = p.change_seq
LEFT JOIN remote_delivery d ON d.source = p.source AND d.change_seq = p.change_seq
WHERE p.bwid IN :bwids
ORDER BY p.change_seq
