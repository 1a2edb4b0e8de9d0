-- purpose: work-order versions a receiver holds (delivered, or sent over HTTP and not confirmed) that are no longer the version in force, with the version in force (planning cancellations).
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, v.file_format,
       w.version AS version_now, w.status AS status_now, w.destination AS destination_now, w.reason_code AS reason_code_now
FROM delivery d
JOIN work_order w ON w.rowguid = d.rowguid AND w.utility = d.utility AND w.version > d.version
JOIN work_order_version v ON v.rowguid = d.rowguid AND v.utility = d.utility AND v.version = d.version
WHERE d.status = 'delivered'
   OR (d.status IN ('pending', 'superseded') AND d.channel IN ('system', 'grid') AND d.attempts > 0)
