-- purpose: trace: every version of the records received (received_record, by ROWGUID) with the extraction batch that loaded it (its watermark move) and the version's verdict.
SELECT r.source, r.change_seq, r.change_time, r.op, r.rowguid, r.ycywh, r.xzqh, r.zrfxm, r.zrfzjhm, r.zrflxdh, r.fwzl,
       r.run_id, r.received_at,
       b.batch_id AS extract_batch_id, b.after_seq, b.max_seq,
       v.status AS verdict_status, v.requested, v.blocked, v.run_id AS verdict_run_id, v.validated_at
FROM received_record r
LEFT JOIN extract_batch b ON b.run_id = r.run_id AND b.source = r.source AND r.change_seq > b.after_seq AND r.change_seq <= b.max_seq
LEFT JOIN record_verdict v ON v.source = r.source AND v.change_seq = r.change_seq
WHERE r.rowguid IN :rowguids
ORDER BY r.change_seq
