-- purpose: console: how many lines the quarantine list has in an area (console_quarantine's filter, whole).
SELECT COUNT(*)
    FROM record_verdict v
    JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
    JOIN rule_failure f ON f.source = v.source AND f.change_seq = v.change_seq
    WHERE f.severity = 'error'
      AND v.status IN ('quarantined', 'duplicate', 'partial') AND (v.status <> 'partial' OR f.utility <> '')
      AND (CAST(:area AS VARCHAR(8)) IS NULL OR r.xzqh LIKE :area)
