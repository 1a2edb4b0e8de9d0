-- purpose: record one result file read (processed, or rejected with its reason) and return its id.
INSERT INTO result_file (source, name, sha256, size, status, rows, accepted, exceptions, reason, received_at)
VALUES (:source, :name, :sha256, :size, :status, :rows, :accepted, :exceptions, :reason, :received_at)
RETURNING file_id
