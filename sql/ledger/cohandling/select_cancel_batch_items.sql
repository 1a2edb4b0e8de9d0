-- purpose: the cancellations of one account-mode cancellation batch, with the platform's business number of the version cancelled.
SELECT c.rowguid, c.utility, c.version, c.idempotency_key, c.reason_code, c.reason, r.ycywh AS "YCYWH"
FROM work_order_cancel c
JOIN work_order_version v ON v.rowguid = c.rowguid AND v.utility = c.utility AND v.version = c.version
JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
WHERE c.batch_id = :batch_id
ORDER BY c.rowguid, c.utility, c.version
