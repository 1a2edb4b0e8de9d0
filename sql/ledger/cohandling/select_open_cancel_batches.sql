-- purpose: account-mode cancellation batches not yet published, oldest first.
SELECT * FROM cancel_batch WHERE status IN ('planned', 'pending') ORDER BY batch_id
