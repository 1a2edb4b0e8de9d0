-- purpose: add one committed chunk's counts to its extraction batch.
UPDATE extract_batch
SET rows_read = rows_read + :rows_read, rows_new = rows_new + :rows_new,
    rows_known = rows_known + :rows_known, max_seq = :max_seq
WHERE batch_id = :batch_id
