-- purpose: number the cancellation batches planned before migration 0014 per institution drop, in batch_id order (1, 2, 3, …).
UPDATE cancel_batch SET seq = (
    SELECT COUNT(*) FROM cancel_batch b WHERE b.destination = cancel_batch.destination AND b.batch_id <= cancel_batch.batch_id
)
