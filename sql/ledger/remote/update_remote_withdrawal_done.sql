-- purpose: a receiver confirmed a withdrawal.
UPDATE remote_delivery SET withdrawal = 'done', withdrawn_at = :now, updated_at = :now, outcome_run_id = :run_id
WHERE idempotency_key = :idempotency_key AND withdrawal = 'pending'
