-- purpose: extraction batches of one status (e.g. success), oldest first.
SELECT * FROM extract_batch WHERE status = :status ORDER BY batch_id
