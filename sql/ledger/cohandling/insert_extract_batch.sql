-- purpose: open an extraction batch (status running) and return its id.
INSERT INTO extract_batch (run_id, source, status, started_at, after_seq, before_time)
VALUES (:run_id, :source, 'running', :started_at, :after_seq, :before_time)
RETURNING batch_id
