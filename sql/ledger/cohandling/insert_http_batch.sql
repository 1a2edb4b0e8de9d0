-- purpose: record one HTTP push as a delivery batch and return its id.
INSERT INTO delivery_batch (run_id, channel, destination, name, records, status, attempts, created_at, updated_at)
VALUES (:run_id, :channel, :destination, :name, :records, :status, :attempts, :now, :now)
RETURNING batch_id
