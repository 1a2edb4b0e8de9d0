-- purpose: console: the applicant's fields of the work orders a page shows (ROWGUIDs given; at most a page's rows), by work_order_version's key, read where they live (received_record) — the read model keeps none; the page masks them.
SELECT w.rowguid, w.utility, w.version, w.correction, r.zrfxm AS buyer_name, r.zrflxdh AS buyer_phone, r.zrfzjhm AS buyer_id, r.fwzl AS address
FROM work_order_version w
JOIN received_record r ON r.source = w.source AND r.change_seq = w.change_seq
WHERE w.rowguid IN :rowguids
