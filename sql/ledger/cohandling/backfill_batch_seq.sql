-- purpose: number the account-mode delivery batches planned before migration 0014 per institution drop, in batch_id order (1, 2, 3, …).
UPDATE delivery_batch SET seq = (
    SELECT COUNT(*) FROM delivery_batch b
    WHERE b.channel = 'account' AND b.destination = delivery_batch.destination AND b.batch_id <= delivery_batch.batch_id
)
WHERE channel = 'account'
