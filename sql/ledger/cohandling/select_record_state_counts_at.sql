-- purpose: records by the state of their version in force as the ledger knew it at :known_by (UTC): each ROWGUID's newest verdict by then (as record_state takes them).
SELECT status, count(*) FROM (
    SELECT v.status, row_number() OVER (PARTITION BY v.rowguid ORDER BY v.change_seq DESC) AS newest
    FROM record_verdict v
    WHERE v.rowguid IS NOT NULL AND v.status <> 'duplicate' AND v.validated_at <= :known_by
) AS latest
WHERE newest = 1
GROUP BY status
