-- purpose: account-mode delivery batches not yet confirmed, oldest first.
SELECT * FROM delivery_batch WHERE channel = 'account' AND status IN ('planned', 'pending') ORDER BY batch_id
