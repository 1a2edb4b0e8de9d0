-- purpose: account-mode batches not rendered yet whose every delivery went (superseded) are cancelled.
UPDATE delivery_batch SET status = 'cancelled', updated_at = :now
WHERE status IN ('planned', 'pending') AND sha256 IS NULL AND channel = 'account'
  AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.batch_id = delivery_batch.batch_id)
