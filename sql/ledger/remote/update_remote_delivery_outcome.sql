-- purpose: one send's outcome on a pending package delivery: attempts, answer, first sent; delivered (since its first sending when a duplicate), rejected / failed, or still pending (:delivered, :closed, :duplicate are 1 or 0).
UPDATE remote_delivery
SET attempts = attempts + :attempts, code = :code, reason = :reason, updated_at = :now,
    first_sent_at = CASE WHEN :attempts > 0 THEN COALESCE(first_sent_at, :now) ELSE first_sent_at END,
    status = :status,
    receipt_id = CASE WHEN :delivered = 1 THEN :receipt_id ELSE receipt_id END,
    files = CASE WHEN :delivered = 1 THEN :files ELSE files END,
    delivered_at = CASE WHEN :delivered = 0 THEN delivered_at WHEN :duplicate = 1 THEN COALESCE(first_sent_at, :now) ELSE :now END,
    outcome_run_id = CASE WHEN :closed = 1 THEN :run_id ELSE outcome_run_id END
WHERE idempotency_key = :idempotency_key AND status = 'pending'
