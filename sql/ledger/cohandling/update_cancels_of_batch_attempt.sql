-- purpose: the pending cancellations of a batch not published: refused for good, or still pending (status: refused | pending).
UPDATE work_order_cancel
SET attempts = attempts + 1, last_error = :last_error, updated_at = :now, status = :status
WHERE batch_id = :batch_id AND status = 'pending'
