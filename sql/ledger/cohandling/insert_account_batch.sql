-- purpose: plan one account-mode delivery batch (its name is set from its id just after) and return its id.
INSERT INTO delivery_batch (run_id, channel, destination, name, file_format, records, status, attempts, created_at, updated_at)
VALUES (:run_id, 'account', :destination, '-', :file_format, :records, 'planned', 0, :now, :now)
RETURNING batch_id
