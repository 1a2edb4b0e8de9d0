-- purpose: lifetime balance — every result file read from an institution's drop, each in one state: processed (final) or rejected as a whole (its reason went back); one refused whole and held as an open dead letter (key <source>:<sha256>) is counted there, not here.
SELECT 'file #' || CAST(f.file_id AS VARCHAR(20)) AS unit, CAST(NULL AS VARCHAR(1)) AS ref, f.status AS state, f.received_at AS since
FROM result_file f
WHERE NOT (f.status = 'rejected' AND EXISTS (
    SELECT 1 FROM dead_letter d WHERE d.surface = 'result_file' AND d.status = 'open' AND d.unit_key = f.source || ':' || f.sha256))
