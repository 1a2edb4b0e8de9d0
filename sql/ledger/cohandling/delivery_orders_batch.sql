-- purpose: the deliveries of one account-mode batch (the derived table of select_delivery_orders).
SELECT d.rowguid, d.utility, d.version FROM delivery d
WHERE d.batch_id = :batch_id
