-- purpose: plan one account-mode cancellation batch with its number at the institution (named just after) and return its id.
INSERT INTO cancel_batch (run_id, destination, name, file_format, records, status, attempts, seq, created_at, updated_at)
VALUES (:run_id, :destination, '-', :file_format, :records, 'planned', 0, :seq, :now, :now)
RETURNING batch_id
