-- purpose: every delivery of one record's work orders (any channel, any status; replay), with whether a cancellation at that receiver covers it since (the derived table of select_delivery_orders).
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, d.status, d.attempts, d.batch_id, d.receipt, d.delivered_at,
       (SELECT b.name FROM delivery_batch b WHERE b.batch_id = d.batch_id) AS batch_name,
       CASE WHEN EXISTS (
           SELECT 1 FROM work_order_cancel c
           WHERE c.rowguid = d.rowguid AND c.utility = d.utility AND c.destination = d.destination AND c.version >= d.version
       ) THEN 1 ELSE 0 END AS cancelled_since
FROM delivery d
WHERE d.rowguid = :rowguid
