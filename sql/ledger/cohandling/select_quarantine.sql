-- purpose: quarantined record versions (whole records, duplicates, blocked utilities) with every error that stopped them, as validated by :known_by (UTC).
SELECT v.run_id, v.change_seq, v.rowguid, v.status, v.blocked, r.ycywh, r.xzqh, r.zrfxm, r.zrfzjhm, r.zrflxdh,
       f.rule_id, f.severity, f.field, f.utility, f.value, f.message_zh, f.message_en
FROM record_verdict v
JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
JOIN rule_failure f ON f.source = v.source AND f.change_seq = v.change_seq
WHERE f.severity = 'error'
  AND (v.status IN ('quarantined', 'duplicate') OR (v.status = 'partial' AND f.utility <> ''))
  AND (CAST(:run_id AS VARCHAR(250)) IS NULL OR v.run_id = :run_id)
  AND v.validated_at <= :known_by
ORDER BY v.change_seq, f.rule_id, f.field
