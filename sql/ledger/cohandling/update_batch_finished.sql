-- purpose: close an extraction batch with its final status (success or failed) and error, if any.
UPDATE extract_batch SET status = :status, finished_at = :finished_at, error = :error WHERE batch_id = :batch_id
