-- purpose: trace: the records' deliveries (by ROWGUID: delivery's primary key's prefix) with their batch and their position in it (the batch's rows are ordered by ROWGUID, utility, version; counted through delivery's batch_id index).
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, d.batch_id, d.status, d.attempts, d.last_error, d.receipt,
       d.planned_run_id, d.delivered_at, d.updated_at,
       b.name AS batch_name, b.file_format AS batch_format, b.records AS batch_records, b.seq AS batch_seq,
       (SELECT COUNT(*) FROM delivery p WHERE p.batch_id = d.batch_id AND (p.rowguid < d.rowguid
            OR (p.rowguid = d.rowguid AND (p.utility < d.utility OR (p.utility = d.utility AND p.version < d.version))))) AS batch_position
FROM delivery d
LEFT JOIN delivery_batch b ON b.batch_id = d.batch_id
WHERE d.rowguid IN :rowguids
ORDER BY d.rowguid, d.utility, d.version
