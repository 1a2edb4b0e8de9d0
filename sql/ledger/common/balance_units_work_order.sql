-- purpose: lifetime balance — every work order in force, each in exactly one state (routing status, a cancellation it waits for, its delivery, the receiver's final result), with since when.
SELECT w.utility || ' v' || CAST(w.version AS VARCHAR(10)) AS unit, w.rowguid AS ref,
       CASE
           WHEN w.status IN ('cancel_pending', 'cancel_refused', 'cancelled', 'withdrawn') THEN w.status
           WHEN d.status IS NULL AND w.status = 'ready' THEN 'to_deliver'
           WHEN d.status IS NULL THEN w.status
           WHEN d.status = 'pending' THEN 'delivering'
           WHEN d.status = 'failed' THEN 'refused'
           WHEN d.status = 'delivered' AND o.result IN ('done', 'rejected') THEN o.result
           WHEN d.status = 'delivered' THEN 'at_receiver'
           ELSE 'delivery_' || d.status
       END AS state,
       CASE
           WHEN w.status = 'cancel_pending' THEN COALESCE((SELECT min(c.created_at) FROM work_order_cancel c
                                                            WHERE c.rowguid = w.rowguid AND c.utility = w.utility AND c.status = 'pending'), w.routed_at)
           WHEN d.status = 'delivered' THEN d.delivered_at
           ELSE w.routed_at
       END AS since
FROM work_order w
LEFT JOIN delivery d ON d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version
LEFT JOIN work_order_outcome o ON o.rowguid = w.rowguid AND o.utility = w.utility AND o.version = w.version
