-- purpose: every work-order version that was or may have been sent (a result can arrive before the send was recorded), for checking incoming results (delivered_at is UTC), with the status and version of its work order in force (a later withdrawn / cancelled version ends it).
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, d.delivered_at,
       w.status AS order_status, w.version AS order_version
FROM delivery d
LEFT JOIN work_order w ON w.rowguid = d.rowguid AND w.utility = d.utility
WHERE d.status IN ('delivered', 'pending', 'superseded')
