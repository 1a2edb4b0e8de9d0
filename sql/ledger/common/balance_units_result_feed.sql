-- purpose: lifetime balance — every results-feed entry the ledger kept: accepted (final) or on the exceptions list (with its reason).
SELECT 'result #' || CAST(result_id AS VARCHAR(20)) AS unit, rowguid AS ref, 'accepted' AS state, received_at AS since
FROM handling_result WHERE file_id IS NULL
UNION ALL
SELECT 'exception #' || CAST(exception_id AS VARCHAR(20)) AS unit, rowguid AS ref, 'exception' AS state, received_at AS since
FROM result_exception WHERE file_id IS NULL
