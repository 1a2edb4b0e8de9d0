-- purpose: every staged version into the history.
INSERT INTO work_order_version (rowguid, utility, version, source, change_seq, correction, account_no, institution_code, institution_version_id, xzqh, channel, destination, file_format, status, hold_until, reason_code, reason, run_id, routed_at)
SELECT rowguid, utility, version, source, change_seq, correction, account_no, institution_code, institution_version_id, xzqh, channel, destination, file_format, status, hold_until, reason_code, reason, run_id, routed_at FROM stage_work_order
