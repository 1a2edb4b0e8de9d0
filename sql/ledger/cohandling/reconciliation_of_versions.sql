-- purpose: reconciliation's input — every column of the work orders in force as the ledger knew them at :known_by (UTC: their delivery, cancellation and the handling results recorded by then) with the record's place and applicant. The derived table `w` gives which work-order versions, each with `final_known` (NULL: no result recorded by then; 0: only "received"; 1: a final one): reconciliation_in_force_all (the reports, reconcile_now), _range (the console read model's whole refresh, a key range at a time) or _rowguids (the trace, the refresh of the work orders a run touched). One statement judges a work order for all three.
SELECT w.rowguid, w.utility, w.version, w.correction, w.channel, w.destination, w.institution_code, i.name AS institution_name,
       r.xzqh AS record_xzqh,
       CASE
           WHEN w.status IN ('delivered', 'failed') AND NOT (d.updated_at <= :known_by AND (w.status = 'failed' OR d.delivered_at <= :known_by)) THEN 'ready'
           WHEN w.status IN ('cancel_pending', 'cancelled', 'cancel_refused') AND EXISTS (
               SELECT 1 FROM work_order_cancel c WHERE c.rowguid = w.rowguid AND c.utility = w.utility AND c.cause_version = w.version
           ) AND NOT EXISTS (
               SELECT 1 FROM work_order_cancel c WHERE c.rowguid = w.rowguid AND c.utility = w.utility AND c.cause_version = w.version AND c.created_at <= :known_by
           ) THEN CASE WHEN w.reason_code = 'RECORD_WITHDRAWN' THEN 'withdrawn' ELSE 'cancelled' END
           WHEN w.status IN ('cancelled', 'cancel_refused') AND EXISTS (
               SELECT 1 FROM work_order_cancel c WHERE c.rowguid = w.rowguid AND c.utility = w.utility AND c.cause_version = w.version AND c.updated_at > :known_by
           ) THEN 'cancel_pending'
           ELSE w.status
       END AS order_status,
       w.hold_until,
       CASE WHEN d.delivered_at <= :known_by THEN 'delivered' WHEN d.status = 'delivered' OR d.updated_at > :known_by THEN 'pending' ELSE d.status END AS delivery_status,
       CASE WHEN d.delivered_at <= :known_by THEN d.delivered_at END AS delivered_at,
       CASE WHEN w.final_known IS NOT NULL THEN o.acknowledged_at END AS acknowledged_at,
       CASE WHEN w.final_known = 1 THEN o.result END AS result,
       CASE WHEN w.final_known = 1 THEN o.code END AS result_code,
       CASE WHEN w.final_known = 1 THEN o.reason END AS result_reason,
       CASE WHEN w.final_known = 1 THEN o.handled_at END AS handled_at,
       r.zrfxm AS buyer_name, r.zrflxdh AS buyer_phone, r.zrfzjhm AS buyer_id, r.fwzl AS address, r.bdcqzh AS certificate, r.ycywh AS platform_no,
       CASE WHEN EXISTS (
           SELECT 1 FROM work_order_cancel c
           JOIN handling_result h ON h.rowguid = c.rowguid AND h.utility = c.utility AND h.version = c.version
           WHERE c.rowguid = w.rowguid AND c.utility = w.utility AND c.status = 'cancelled' AND c.cancelled_at <= :known_by
             AND h.result <> 'received' AND h.received_at > c.cancelled_at AND h.received_at <= :known_by
       ) THEN 1 ELSE 0 END AS result_after_cancel
FROM (/*inner*/) w
JOIN received_record r ON r.source = w.source AND r.change_seq = w.change_seq
LEFT JOIN delivery d ON d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version
LEFT JOIN work_order_outcome o ON o.rowguid = w.rowguid AND o.utility = w.utility AND o.version = w.version
LEFT JOIN institution i ON i.version_id = w.institution_version_id
