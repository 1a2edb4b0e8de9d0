-- purpose: every delivery of one BWID's package versions (replay), with the codes validation read (XZQH, SJDWDM, business type).
SELECT d.*, v.xzqh AS v_xzqh, v.sjdwdm AS v_sjdwdm, v.business_type AS v_business_type
FROM remote_delivery d
JOIN remote_verdict v ON v.source = d.source AND v.change_seq = d.change_seq
WHERE d.bwid = :bwid
ORDER BY d.change_seq
