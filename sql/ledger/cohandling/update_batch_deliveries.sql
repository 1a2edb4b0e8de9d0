-- purpose: the pending deliveries of an account-mode batch take the batch attempt's outcome.
UPDATE delivery
SET status = :status, attempts = attempts + 1, last_error = :last_error, receipt = :receipt, delivered_at = :delivered_at, updated_at = :now
WHERE batch_id = :batch_id AND status = 'pending'
