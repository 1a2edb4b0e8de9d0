-- purpose: the change-sequence range a run's extraction batches covered (its changes lie inside it).
SELECT min(after_seq) AS low, max(max_seq) AS high
FROM extract_batch
WHERE run_id = :run_id AND source = :source
