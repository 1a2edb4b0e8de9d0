-- purpose: trace: the cancellations of the records' work orders (by ROWGUID: work_order_cancel's primary key's prefix) with their cancellation batch.
SELECT c.rowguid, c.utility, c.version, c.cause_version, c.channel, c.destination, c.reason_code, c.reason, c.status, c.attempts,
       c.last_error, c.receipt, c.created_at, c.updated_at, c.cancelled_at, b.name AS batch_name
FROM work_order_cancel c
LEFT JOIN cancel_batch b ON b.batch_id = c.batch_id
WHERE c.rowguid IN :rowguids
ORDER BY c.rowguid, c.utility, c.version
