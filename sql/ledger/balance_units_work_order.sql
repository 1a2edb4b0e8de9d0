-- purpose: lifetime balance — every work order in force, each in exactly one state (routing status, its delivery, the receiver's final result), with since when.
SELECT w.utility || ' v' || CAST(w.version AS VARCHAR(10)) AS unit, w.rowguid AS ref,
       CASE
           WHEN d.status IS NULL AND w.status = 'ready' THEN 'to_deliver'
           WHEN d.status IS NULL THEN w.status
           WHEN d.status = 'pending' THEN 'delivering'
           WHEN d.status = 'failed' THEN 'refused'
           WHEN d.status = 'delivered' AND o.result IN ('done', 'rejected') THEN o.result
           WHEN d.status = 'delivered' THEN 'at_receiver'
           ELSE 'delivery_' || d.status
       END AS state,
       CASE WHEN d.status = 'delivered' THEN d.delivered_at ELSE w.routed_at END AS since
FROM work_order w
LEFT JOIN delivery d ON d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version
LEFT JOIN work_order_outcome o ON o.rowguid = w.rowguid AND o.utility = w.utility AND o.version = w.version
