-- purpose: console: the first :limit lines of the quarantine list in an area (:area, a LIKE pattern on the record's XZQH; NULL: all) — select_quarantine's lines as the ledger knows them now, in its order, each record's versions read by ROWGUID for those lines only (received_record's index), never the whole ledger's.
WITH page AS (
    SELECT v.source, v.run_id, v.change_seq, v.rowguid, v.status, v.blocked, r.ycywh, r.xzqh, r.zrfxm, r.zrfzjhm, r.zrflxdh,
           f.rule_id, f.severity, f.field, f.utility, f.value, f.message_zh, f.message_en
    FROM record_verdict v
    JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
    JOIN rule_failure f ON f.source = v.source AND f.change_seq = v.change_seq
    WHERE f.severity = 'error'
      AND v.status IN ('quarantined', 'duplicate', 'partial') AND (v.status <> 'partial' OR f.utility <> '')
      AND (CAST(:area AS VARCHAR(8)) IS NULL OR r.xzqh LIKE :area)
    ORDER BY v.change_seq, f.rule_id, f.field
    LIMIT :limit
), versions AS (
    SELECT v.rowguid, v.change_seq, v.status, v.blocked, v.validated_at,
           row_number() OVER (PARTITION BY v.rowguid ORDER BY v.change_seq) AS version,
           row_number() OVER (PARTITION BY v.rowguid ORDER BY v.change_seq DESC) AS newest
    FROM received_record rr
    JOIN record_verdict v ON v.source = rr.source AND v.change_seq = rr.change_seq
    WHERE rr.rowguid IN (SELECT rowguid FROM page) AND v.rowguid IS NOT NULL AND v.status <> 'duplicate'
)
SELECT p.run_id, p.change_seq, p.rowguid, p.status, p.blocked, p.ycywh, p.xzqh, p.zrfxm, p.zrfzjhm, p.zrflxdh,
       p.rule_id, p.severity, p.field, p.utility, p.value, p.message_zh, p.message_en,
       o.version AS version, n.change_seq AS latest_seq, n.status AS latest_status, n.blocked AS latest_blocked,
       n.validated_at AS latest_validated_at, n.version AS latest_version
FROM page p
LEFT JOIN versions o ON o.rowguid = p.rowguid AND o.change_seq = p.change_seq
LEFT JOIN versions n ON n.rowguid = p.rowguid AND n.newest = 1
ORDER BY p.change_seq, p.rule_id, p.field
