-- purpose: one send's outcome on a pending package delivery: attempts, answer, first sent; delivered (since :delivered_at), rejected / failed, or still pending.
UPDATE remote_delivery
SET attempts = attempts + :attempts, code = :code, reason = :reason, updated_at = :now,
    first_sent_at = CASE WHEN :attempts > 0 THEN COALESCE(first_sent_at, :now) ELSE first_sent_at END,
    status = :status,
    receipt_id = CASE WHEN :status = 'delivered' THEN :receipt_id ELSE receipt_id END,
    files = CASE WHEN :status = 'delivered' THEN :files ELSE files END,
    delivered_at = CASE WHEN :status <> 'delivered' THEN delivered_at WHEN :duplicate = 1 THEN COALESCE(first_sent_at, :now) ELSE :now END,
    outcome_run_id = CASE WHEN :status IN ('rejected', 'failed') THEN :run_id ELSE outcome_run_id END
WHERE idempotency_key = :idempotency_key AND status = 'pending'
