-- purpose: the pending cancellations of a batch just published are done: the institution has them.
UPDATE work_order_cancel
SET attempts = attempts + 1, last_error = :last_error, updated_at = :now, status = 'cancelled', cancelled_at = :now, receipt = :receipt
WHERE batch_id = :batch_id AND status = 'pending'
