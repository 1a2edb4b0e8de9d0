-- purpose: lifetime balance — every result file read from an institution's drop, each in one state: processed (final) or rejected as a whole (its reason goes back).
SELECT 'file #' || CAST(file_id AS VARCHAR(20)) AS unit, CAST(NULL AS VARCHAR(1)) AS ref, status AS state, received_at AS since
FROM result_file
