-- purpose: the work orders in force for a page of records to route (the same record states as select_route_records, its derived table, up to the page's last change).
SELECT w.rowguid, w.utility, w.version, w.source, w.change_seq, w.correction, w.account_no, w.institution_code, w.institution_version_id, w.xzqh, w.channel,
       w.destination, w.file_format, w.status, w.hold_until, w.reason_code, w.reason, w.run_id, w.routed_at,
       CASE WHEN EXISTS (SELECT 1 FROM delivery d WHERE d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version) THEN 1 ELSE 0 END AS has_delivery
FROM work_order w
WHERE w.rowguid IN (
    SELECT s.rowguid FROM (/*inner*/) s
    WHERE s.change_seq > :after AND s.change_seq <= :high
)
