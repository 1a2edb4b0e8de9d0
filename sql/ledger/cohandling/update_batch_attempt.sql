-- purpose: one attempt at an account-mode batch: its status, attempt count and error.
UPDATE delivery_batch
SET status = :status, attempts = attempts + 1, last_error = :last_error, updated_at = :now, delivered_at = :delivered_at
WHERE batch_id = :batch_id
