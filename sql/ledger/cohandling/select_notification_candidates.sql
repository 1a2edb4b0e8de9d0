-- purpose: final outcomes (done / rejected) with no SMS queued yet, with the buyer's phone and what the text names; never for a work order the platform withdrew or a correction cancelled since. A page at a time: the :page after (:rowguid, :utility, :version), in key order.
SELECT o.rowguid, o.utility, o.version, o.result, o.code, o.reason,
       r.zrflxdh AS buyer_phone, r.bdcqzh AS certificate, r.fwzl AS address,
       i.name AS institution_name, i.service_phone AS institution_phone
FROM work_order_outcome o
JOIN work_order_version v ON v.rowguid = o.rowguid AND v.utility = o.utility AND v.version = o.version
JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
LEFT JOIN institution i ON i.version_id = v.institution_version_id
WHERE o.result IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM sms_outbox s WHERE s.rowguid = o.rowguid AND s.utility = o.utility AND s.version = o.version)
  AND NOT EXISTS (SELECT 1 FROM work_order w WHERE w.rowguid = o.rowguid AND w.utility = o.utility AND w.version > o.version
                  AND w.status IN ('withdrawn', 'cancelled', 'cancel_pending', 'cancel_refused'))
  AND (o.rowguid, o.utility, o.version) > (:rowguid, :utility, :version)
ORDER BY o.rowguid, o.utility, o.version
LIMIT :page
