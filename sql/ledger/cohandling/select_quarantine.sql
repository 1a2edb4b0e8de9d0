-- purpose: quarantined record versions (whole records, duplicates, blocked utilities) with every error that stopped them, as validated by :known_by (UTC); with each record's version number and its newest version validated by then (its state: still quarantined, corrected and passed, withdrawn).
WITH versions AS (
    SELECT rowguid, change_seq, status, blocked, validated_at,
           row_number() OVER (PARTITION BY rowguid ORDER BY change_seq) AS version,
           row_number() OVER (PARTITION BY rowguid ORDER BY change_seq DESC) AS newest
    FROM record_verdict
    WHERE rowguid IS NOT NULL AND status <> 'duplicate' AND validated_at <= :known_by
)
SELECT v.run_id, v.change_seq, v.rowguid, v.status, v.blocked, r.ycywh, r.xzqh, r.zrfxm, r.zrfzjhm, r.zrflxdh,
       f.rule_id, f.severity, f.field, f.utility, f.value, f.message_zh, f.message_en,
       o.version AS version, n.change_seq AS latest_seq, n.status AS latest_status, n.blocked AS latest_blocked,
       n.validated_at AS latest_validated_at, n.version AS latest_version
FROM record_verdict v
JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
JOIN rule_failure f ON f.source = v.source AND f.change_seq = v.change_seq
LEFT JOIN versions o ON o.rowguid = v.rowguid AND o.change_seq = v.change_seq
LEFT JOIN versions n ON n.rowguid = v.rowguid AND n.newest = 1
WHERE f.severity = 'error'
  AND (v.status IN ('quarantined', 'duplicate') OR (v.status = 'partial' AND f.utility <> ''))
  AND (CAST(:run_id AS VARCHAR(250)) IS NULL OR v.run_id = :run_id)
  AND v.validated_at <= :known_by
ORDER BY v.change_seq, f.rule_id, f.field
