-- purpose: trace: every version of the records' work orders (work_order_version, by ROWGUID: its primary key's prefix).
SELECT w.rowguid, w.utility, w.version, w.source, w.change_seq, w.correction, w.institution_code, i.name AS institution_name,
       w.xzqh, w.channel, w.destination, w.file_format, w.status, w.hold_until, w.reason_code, w.reason, w.run_id, w.routed_at
FROM work_order_version w
LEFT JOIN institution i ON i.version_id = w.institution_version_id
WHERE w.rowguid IN :rowguids
ORDER BY w.rowguid, w.utility, w.version
