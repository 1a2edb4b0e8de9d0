-- purpose: every work order in force with its delivery, outcome, institution and the record's place and applicant (reconciliation).
SELECT w.rowguid, w.utility, w.version, w.correction, w.channel, w.destination, w.institution_code, i.name AS institution_name,
       r.xzqh AS record_xzqh, w.status AS order_status, w.hold_until, d.status AS delivery_status, d.delivered_at,
       o.acknowledged_at, o.result, o.code AS result_code, o.reason AS result_reason, o.handled_at,
       r.zrfxm AS buyer_name, r.zrflxdh AS buyer_phone, r.zrfzjhm AS buyer_id, r.fwzl AS address, r.bdcqzh AS certificate,
       CASE WHEN EXISTS (
           SELECT 1 FROM work_order_cancel c
           JOIN work_order_outcome oc ON oc.rowguid = c.rowguid AND oc.utility = c.utility AND oc.version = c.version
           WHERE c.rowguid = w.rowguid AND c.utility = w.utility AND c.status = 'cancelled' AND oc.result IS NOT NULL AND oc.updated_at > c.cancelled_at
       ) THEN 1 ELSE 0 END AS result_after_cancel
FROM work_order w
JOIN received_record r ON r.source = w.source AND r.change_seq = w.change_seq
LEFT JOIN delivery d ON d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version
LEFT JOIN work_order_outcome o ON o.rowguid = w.rowguid AND o.utility = w.utility AND o.version = w.version
LEFT JOIN institution i ON i.version_id = w.institution_version_id
