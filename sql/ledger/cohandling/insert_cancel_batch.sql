-- purpose: plan one account-mode cancellation batch (named from its id just after) and return its id.
INSERT INTO cancel_batch (run_id, destination, name, file_format, records, status, attempts, created_at, updated_at)
VALUES (:run_id, :destination, '-', :file_format, :records, 'planned', 0, :now, :now)
RETURNING batch_id
