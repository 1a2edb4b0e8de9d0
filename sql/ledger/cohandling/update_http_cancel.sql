-- purpose: one answer of a cancel call, on its pending cancellation (k: idempotency key).
UPDATE work_order_cancel
SET status = :s, attempts = attempts + :n, last_error = :e, receipt = :receipt, cancelled_at = :cancelled_at, updated_at = :now
WHERE idempotency_key = :k AND status = 'pending'
