-- purpose: trace: the result exceptions naming the records (result_exception has no index on rowguid: a scan of a table as large as the bad rows received).
SELECT e.exception_id, e.source, e.row_number, e.rowguid, e.utility, e.reason_code, e.reason, e.value, e.file_id, e.received_at,
       f.name AS file_name
FROM result_exception e
LEFT JOIN result_file f ON f.file_id = e.file_id
WHERE e.rowguid IN :rowguids
ORDER BY e.received_at, e.exception_id
