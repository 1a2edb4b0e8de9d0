-- purpose: the staged versions become the work orders in force, upserted on (ROWGUID, utility): a later version replaces the one in force, the same version is updated while routing still owns it (ready, held, quarantined, cancelled, withdrawn); an older version never replaces a newer one — so two routings of the same work orders at once never collide on the key nor go back.
INSERT INTO work_order (rowguid, utility, version, source, change_seq, correction, account_no, institution_code, institution_version_id, xzqh, channel, destination, file_format, status, hold_until, reason_code, reason, run_id, routed_at)
SELECT rowguid, utility, version, source, change_seq, correction, account_no, institution_code, institution_version_id, xzqh, channel, destination, file_format, status, hold_until, reason_code, reason, run_id, routed_at
FROM stage_work_order
WHERE true
ON CONFLICT (rowguid, utility) DO UPDATE
SET version = excluded.version, source = excluded.source, change_seq = excluded.change_seq, correction = excluded.correction,
    account_no = excluded.account_no, institution_code = excluded.institution_code, institution_version_id = excluded.institution_version_id,
    xzqh = excluded.xzqh, channel = excluded.channel, destination = excluded.destination, file_format = excluded.file_format,
    status = excluded.status, hold_until = excluded.hold_until, reason_code = excluded.reason_code, reason = excluded.reason,
    run_id = excluded.run_id, routed_at = excluded.routed_at
WHERE excluded.version > work_order.version
   OR (excluded.version = work_order.version AND work_order.status IN ('ready', 'held', 'quarantined', 'cancelled', 'withdrawn'))
