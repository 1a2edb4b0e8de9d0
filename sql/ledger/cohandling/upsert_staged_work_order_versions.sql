-- purpose: every staged version into the history, upserted on (ROWGUID, utility, version): a version re-routed in place (e.g. released from held) is updated while routing still owns it, never once it left (delivered, superseded, cancel_pending, …).
INSERT INTO work_order_version (rowguid, utility, version, source, change_seq, correction, account_no, institution_code, institution_version_id, xzqh, channel, destination, file_format, status, hold_until, reason_code, reason, run_id, routed_at)
SELECT rowguid, utility, version, source, change_seq, correction, account_no, institution_code, institution_version_id, xzqh, channel, destination, file_format, status, hold_until, reason_code, reason, run_id, routed_at
FROM stage_work_order
WHERE true
ON CONFLICT (rowguid, utility, version) DO UPDATE
SET source = excluded.source, change_seq = excluded.change_seq, correction = excluded.correction,
    account_no = excluded.account_no, institution_code = excluded.institution_code, institution_version_id = excluded.institution_version_id,
    xzqh = excluded.xzqh, channel = excluded.channel, destination = excluded.destination, file_format = excluded.file_format,
    status = excluded.status, hold_until = excluded.hold_until, reason_code = excluded.reason_code, reason = excluded.reason,
    run_id = excluded.run_id, routed_at = excluded.routed_at
WHERE work_order_version.status IN ('ready', 'held', 'quarantined', 'cancelled', 'withdrawn')
