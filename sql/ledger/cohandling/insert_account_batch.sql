-- purpose: plan one account-mode delivery batch with its number at the institution (its name is set just after) and return its id.
INSERT INTO delivery_batch (run_id, channel, destination, name, file_format, records, status, attempts, seq, created_at, updated_at)
VALUES (:run_id, 'account', :destination, '-', :file_format, :records, 'planned', 0, :seq, :now, :now)
RETURNING batch_id
