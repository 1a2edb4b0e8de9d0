-- purpose: a receiver refused a withdrawal (its code and reason kept).
UPDATE remote_delivery SET withdrawal = 'refused', withdrawal_reason = :withdrawal_reason, updated_at = :now, outcome_run_id = :run_id
WHERE idempotency_key = :idempotency_key AND withdrawal = 'pending'
