-- purpose: an extraction batch's figures, for the audit log and the job's summary.
SELECT batch_id, run_id, after_seq, max_seq, rows_read, rows_new, rows_known FROM extract_batch WHERE batch_id = :batch_id
