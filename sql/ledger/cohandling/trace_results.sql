-- purpose: trace: every handling result received for the records (handling_result by its (rowguid, utility, version) index) with the result file it came in.
SELECT h.result_id, h.rowguid, h.utility, h.version, h.source, h.result, h.code, h.reason, h.handled_at, h.handler, h.file_id,
       h.feed_seq, h.received_at, f.name AS file_name
FROM handling_result h
LEFT JOIN result_file f ON f.file_id = h.file_id
WHERE h.rowguid IN :rowguids
ORDER BY h.received_at, h.result_id
